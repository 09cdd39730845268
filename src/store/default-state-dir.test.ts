import assert from 'node:assert/strict'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { defaultStateDir } from './default-state-dir.js'

test('the default state directory: FLOWLOG_STATE_DIR, /var/lib/flowlog for root, else the XDG state dir', () => {
  assert.equal(defaultStateDir({ FLOWLOG_STATE_DIR: '/srv/state' }, 0), '/srv/state')
  assert.equal(defaultStateDir({ FLOWLOG_STATE_DIR: 'relative' }, 0), '/var/lib/flowlog')
  assert.equal(defaultStateDir({}, 0), '/var/lib/flowlog')
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/home/u/.state' }, 1000), '/home/u/.state/flowlog')
  assert.equal(defaultStateDir({}, 1000), join(homedir(), '.local', 'state', 'flowlog'))
})
