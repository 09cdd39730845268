import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { findCommand } from './capture-backend.js'

test('findCommand: the first executable on PATH; files that cannot be run are passed over', () => {
  const a = mkdtempSync(join(tmpdir(), 'flowlog-path-a-'))
  const b = mkdtempSync(join(tmpdir(), 'flowlog-path-b-'))
  writeFileSync(join(a, 'fake-capture-tool'), 'not executable')
  writeFileSync(join(b, 'fake-capture-tool'), '#!/bin/sh\n')
  chmodSync(join(b, 'fake-capture-tool'), 0o755)
  assert.equal(findCommand('fake-capture-tool', ['', a, b].join(delimiter)), join(b, 'fake-capture-tool'))
  assert.equal(findCommand('fake-capture-tool', a), null)
})
