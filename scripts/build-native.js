#!/usr/bin/env node
// `npm install` runs this (package.json "install"): builds flowlog's optional native addons
// (binding.gyp) with npm's own node-gyp:
// - the af-packet capture backend (native/packet-ring.c): on Linux, always; it needs only the
//   kernel headers. Without it `flowlog run` captures through tcpdump or libpcap.
// - fast gzip through ISA-L (native/igzip.c): where libisal-dev is installed. Without it flowlog
//   gzips with Node's zlib.
// It never fails the install: for each feature not built it says which and why.
// `npm run build:native` runs it again (after installing libisal-dev, say).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ISAL_HEADER = '/usr/include/isa-l/igzip_lib.h'
const say = (line) => console.log(`flowlog: ${line}`)
const ringMissing = (why) =>
  say(`af-packet capture (packet ring) not built: ${why}; flowlog run captures through tcpdump or libpcap`)
const gzipMissing = (why) => say(`fast gzip (ISA-L) not built: ${why}; files are gzipped with zlib instead`)

const features = { ring: process.platform === 'linux', igzip: true }
if (!features.ring) ringMissing(`it is for Linux, and this is ${process.platform}`)
if (process.env.FLOWLOG_GZIP === 'zlib') {
  features.igzip = false
  gzipMissing('FLOWLOG_GZIP=zlib')
} else if (!existsSync(ISAL_HEADER)) {
  features.igzip = false
  gzipMissing(`${ISAL_HEADER} is missing (apt-get install libisal-dev, then npm run build:native)`)
}

// npm tells its scripts where its node-gyp is; run by hand, look where npm keeps it.
const nodeGyp =
  process.env.npm_config_node_gyp ??
  join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  )
// Node's headers from the installed node (as npm is set up here) rather than a download.
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined)

/** node-gyp with these features; null when it built, else the end of its output. */
function build({ ring, igzip }) {
  const gyp = (...args) => spawnSync(process.execPath, [nodeGyp, ...args], { cwd: ROOT, encoding: 'utf8' })
  const steps = [
    ['clean'],
    [
      'configure',
      ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`]),
      '--',
      `-Dwith_packet_ring=${ring ? 1 : 0}`,
      `-Dwith_igzip=${igzip ? 1 : 0}`,
    ],
    ['build'],
  ]
  for (const step of steps) {
    const r = gyp(...step)
    if (r.status !== 0) {
      const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')
      const tail = output.filter((l) => !l.startsWith('gyp info')).slice(-12)
      return `node-gyp ${step[0]} failed (exit ${r.status ?? r.signal}):\n${tail.join('\n')}`
    }
  }
  return null
}

/** Builds `wanted`; on failure prints node-gyp's output and says so for each feature. */
function attempt(wanted, quiet = false) {
  const failure = build(wanted)
  if (failure !== null) {
    console.log(failure)
    if (!quiet && wanted.ring) ringMissing('its build failed (output above)')
    if (!quiet && wanted.igzip) gzipMissing('its build failed (output above)')
  }
  return failure === null
}

if (features.ring || features.igzip) {
  if (!existsSync(nodeGyp)) {
    const why = `npm's node-gyp was not found (${nodeGyp})`
    if (features.ring) ringMissing(why)
    if (features.igzip) gzipMissing(why)
  } else if (attempt(features, features.ring && features.igzip)) {
    if (features.ring) say('af-packet capture (packet ring) built')
    if (features.igzip) say('fast gzip (ISA-L igzip) built')
  } else if (features.ring && features.igzip) {
    // One feature's failure must not cost the other: the ring alone, else igzip alone.
    if (attempt({ ring: true, igzip: false })) {
      gzipMissing('its build failed (output above)')
      say('af-packet capture (packet ring) built')
    } else if (attempt({ ring: false, igzip: true })) say('fast gzip (ISA-L igzip) built')
  }
}
