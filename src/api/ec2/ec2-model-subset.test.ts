import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { requireBuilt } from '../../../test/support/requirements.js'
import { EC2_MODEL } from './ec2-model.generated.js'
import { queryNameOf, shapeOf } from './ec2-model.js'
import { BOTOCORE_EC2_MODEL_PATH, type BotocoreModel, subsetModel } from './ec2-model-subset.js'
import { SUPPORTED_ACTIONS } from './supported-actions.js'

test('the vendored model is a fresh cut of the installed awscli model (regenerate with scripts/generate-ec2-model.ts)', (t) => {
  const present = existsSync(BOTOCORE_EC2_MODEL_PATH)
  if (
    !requireBuilt(t, present, `botocore's EC2 model at ${BOTOCORE_EC2_MODEL_PATH}`, 'apt-get install awscli')
  )
    return
  const full = JSON.parse(readFileSync(BOTOCORE_EC2_MODEL_PATH, 'utf8')) as BotocoreModel
  assert.deepEqual(subsetModel(full, SUPPORTED_ACTIONS), EC2_MODEL)
})

test('the vendored model holds every supported action and the ec2 wire names', () => {
  assert.deepEqual(Object.keys(EC2_MODEL.operations).sort(), [...SUPPORTED_ACTIONS].sort())
  const request = shapeOf(EC2_MODEL, 'AuthorizeSecurityGroupEgressRequest')
  // locationName `ipPermissions` is sent capitalised; UserIdGroupPairs travel as `Groups`.
  const ref = request.members?.IpPermissions
  assert.ok(ref)
  assert.equal(queryNameOf('IpPermissions', ref), 'IpPermissions')
  const pairs = shapeOf(EC2_MODEL, 'IpPermission').members?.UserIdGroupPairs
  assert.ok(pairs)
  assert.equal(queryNameOf('UserIdGroupPairs', pairs), 'Groups')
})
