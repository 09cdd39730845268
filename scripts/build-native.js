#!/usr/bin/env node
// `npm install` runs this (package.json "install"): builds the optional ISA-L gzip addon
// (native/igzip.c, binding.gyp) with npm's own node-gyp. It never fails the install: without
// libisal-dev, or when the build fails, flowlog gzips with Node's zlib and this says so.
// `npm run build:native` runs it again after installing libisal-dev.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const HEADER = '/usr/include/isa-l/igzip_lib.h'
const fallback = (why) => {
  console.log(`flowlog: fast gzip (ISA-L) not built: ${why}; files are gzipped with zlib instead`)
  process.exit(0)
}

if (process.env.FLOWLOG_GZIP === 'zlib') fallback('FLOWLOG_GZIP=zlib')
if (!existsSync(HEADER))
  fallback(`${HEADER} is missing (apt-get install libisal-dev, then npm run build:native)`)
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
if (!existsSync(nodeGyp)) fallback(`npm's node-gyp was not found (${nodeGyp})`)
// Node's headers from the installed node (as npm is set up here) rather than a download.
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined)
const args = [nodeGyp, 'rebuild', ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])]
const built = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' })
if (built.status !== 0) {
  const output = `${built.stdout ?? ''}${built.stderr ?? ''}`.trim().split('\n')
  console.log(
    output
      .filter((l) => !l.startsWith('gyp info'))
      .slice(-12)
      .join('\n'),
  )
  fallback(`node-gyp failed (exit ${built.status ?? built.signal})`)
}
console.log('flowlog: fast gzip (ISA-L igzip) built')
