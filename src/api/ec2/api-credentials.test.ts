import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { InputError } from '../../core/errors.js'
import { loadApiCredentials, parseApiCredentials } from './api-credentials.js'

test('every profile with a key pair may call; other keys and comments are ignored', () => {
  const creds = parseApiCredentials(
    [
      '# tenants',
      '[default]',
      'aws_access_key_id = AKIDDEFAULT',
      'aws_secret_access_key = s3cr3t/with+chars=',
      'region = eu-west-1',
      '',
      '[profile ops]',
      '; second caller',
      'AWS_ACCESS_KEY_ID=AKIDOPS',
      'aws_secret_access_key=ops',
      '[empty]',
      'region = kr1',
    ].join('\n'),
    'creds',
  )
  assert.equal(creds.size, 2)
  assert.deepEqual(creds.lookup('AKIDDEFAULT'), {
    accessKeyId: 'AKIDDEFAULT',
    secretAccessKey: 's3cr3t/with+chars=',
    profile: 'default',
  })
  assert.equal(creds.lookup('AKIDOPS')?.profile, 'ops')
  assert.equal(creds.lookup('AKIDNOBODY'), undefined)
})

test('half a pair, a key shared by two profiles, or no pair at all are errors naming the line', () => {
  const problems = (text: string) => {
    try {
      parseApiCredentials(text, 'creds')
    } catch (error) {
      assert.ok(error instanceof InputError)
      return error.problems.join('\n')
    }
    assert.fail('no error')
  }
  assert.match(problems('[a]\naws_access_key_id=AKIDA\n'), /creds:1 \[a\]: aws_secret_access_key is missing/)
  assert.match(
    problems(
      '[a]\naws_access_key_id=AKIDA\naws_secret_access_key=x\n[b]\naws_access_key_id=AKIDA\naws_secret_access_key=y\n',
    ),
    /\[b\]: aws_access_key_id "AKIDA" is already the key of \[a\]/,
  )
  assert.match(problems('# nothing\n'), /holds no profile/)
  // A stray line may be a secret pasted wrong: its place is named, not its text.
  const stray = problems('[a]\naws_access_key_id=AKIDA\naws_secret_access_key=x\nsupersecretvalue\n')
  assert.match(stray, /creds:4: is neither/)
  assert.doesNotMatch(stray, /supersecretvalue/)
})

test('loadApiCredentials reads the file, and names it when it cannot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-creds-'))
  const path = join(dir, 'credentials')
  writeFileSync(path, '[default]\naws_access_key_id=AKIDX\naws_secret_access_key=y\n')
  assert.equal(loadApiCredentials(path).lookup('AKIDX')?.secretAccessKey, 'y')
  assert.throws(
    () => loadApiCredentials(join(dir, 'missing')),
    /--api-credentials .*missing: cannot be read \(ENOENT\)/,
  )
})
