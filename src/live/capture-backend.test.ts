import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { FlowlogError } from '../core/errors.js'
import { chooseCaptureBackend, findCommand } from './capture-backend.js'

test('findCommand: the first executable on PATH; files that cannot be run are passed over', () => {
  const a = mkdtempSync(join(tmpdir(), 'flowlog-path-a-'))
  const b = mkdtempSync(join(tmpdir(), 'flowlog-path-b-'))
  writeFileSync(join(a, 'fake-capture-tool'), 'not executable')
  writeFileSync(join(b, 'fake-capture-tool'), '#!/bin/sh\n')
  chmodSync(join(b, 'fake-capture-tool'), 0o755)
  assert.equal(findCommand('fake-capture-tool', ['', a, b].join(delimiter)), join(b, 'fake-capture-tool'))
  assert.equal(findCommand('fake-capture-tool', a), null)
})

test('chooseCaptureBackend: auto prefers af-packet where it may capture, and says why it did not', () => {
  const ring = chooseCaptureBackend('auto', { enforce: false, probePacketRing: () => null })
  assert.equal(ring.backend, 'af-packet')
  assert.equal(ring.snapLength, 256)
  assert.match(ring.reason, /af-packet addon is built and this process may open packet sockets/)
  const asked = chooseCaptureBackend('af-packet', {
    enforce: false,
    snapLength: 512,
    probePacketRing: () => null,
  })
  assert.deepEqual(
    [asked.backend, asked.snapLength, asked.reason],
    ['af-packet', 512, '--capture-backend af-packet'],
  )
})

test('chooseCaptureBackend: af-packet refuses enforce mode and says what is missing', () => {
  assert.throws(
    () => chooseCaptureBackend('af-packet', { enforce: true, probePacketRing: () => null }),
    (e: unknown) => e instanceof FlowlogError && e.code === 'ERR_CAPTURE_BACKEND' && /NFLOG/.test(e.message),
  )
  assert.throws(
    () =>
      chooseCaptureBackend('af-packet', {
        enforce: false,
        probePacketRing: () => 'socket(AF_PACKET): Operation not permitted',
      }),
    (e: unknown) =>
      e instanceof FlowlogError &&
      e.code === 'ERR_PRIVILEGES' &&
      /CAP_NET_RAW.*Operation not permitted.*setcap cap_net_raw/.test(e.message),
  )
  assert.throws(
    () =>
      chooseCaptureBackend('af-packet', {
        enforce: false,
        probePacketRing: () => 'the packet-ring addon is not built: npm run build:native',
      }),
    (e: unknown) => e instanceof FlowlogError && /not built: npm run build:native/.test(e.message),
  )
})
