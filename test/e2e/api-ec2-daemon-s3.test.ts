import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { collectOutput, createLab, type Lab, logLines, requireLab, waitFor } from '../support/netns.js'
import { repoPath } from '../support/paths.js'
import { requireBuilt } from '../support/requirements.js'
import { S3_TEST_KEY } from '../support/s3-server.js'
import { type NamespaceS3, startS3InNamespace } from '../support/s3-server-in-namespace.js'

/**
 * The user, end to end: `flowlog run --state --api --api-credentials --api-token-file` on a
 * namespace network, Debian's awscli runs the seed's create-flow-logs verbatim (but for endpoint
 * and bucket) against it, and flow-log files in the seed's format reach a real S3 server.
 * The seed's command asks AWS's default 600 s windows, so its first file is due up to 20 minutes
 * later; a second flow log in the same format with flowlog's 2 s interval shows the files.
 */
const ACCESS_KEY = 'AKIDSEEDTENANT01'
const SECRET = 'seed-tenant-secret'
const BUCKET = 'flowlog-seed-bucket'
const SEED_FORMAT =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's ${field} syntax
  '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}'

function awsInNamespace(lab: Lab, endpoint: string, args: readonly string[]) {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      lab.hv,
      'env',
      `AWS_ACCESS_KEY_ID=${ACCESS_KEY}`,
      `AWS_SECRET_ACCESS_KEY=${SECRET}`,
      'AWS_DEFAULT_REGION=eu-west-1',
      'AWS_CONFIG_FILE=/dev/null',
      'AWS_SHARED_CREDENTIALS_FILE=/dev/null',
      'AWS_PAGER=',
      '/usr/bin/aws',
      'ec2',
      ...args,
      '--endpoint-url',
      endpoint,
      '--output',
      'json',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  return {
    code: r.status ?? -1,
    json: r.stdout.trim() === '' ? null : JSON.parse(r.stdout),
    stderr: r.stderr,
  }
}

test("the seed's create-flow-logs against a running daemon; files in its format reach S3", async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requireBuilt(t, existsSync('/usr/bin/aws'), 'Debian awscli at /usr/bin/aws', 'apt-get install awscli'))
    return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-ec2-daemon-'))
  const lab = createLab('ec2s3', ['a', 'b'])
  let s3: NamespaceS3 | null = null
  try {
    s3 = await startS3InNamespace(lab, lab.hv, [BUCKET])
    const [a, b] = lab.instances as [Lab['instances'][0], Lab['instances'][0]]
    const nic = (i: typeof a) =>
      `  - { id: eni-${i.name}, instance: i-${i.name}, subnet: subnet-12345678, addresses: [${i.address}], device: ${i.device}, securityGroups: [sg-lab] }`
    const config = join(dir, 'host.yaml')
    writeFileSync(
      config,
      `account: "123456789012"
region: eu-west-1
spoolDir: ${join(dir, 'spool')}
s3: { endpoint: "${s3.endpoint}", forcePathStyle: true }
vpcs:
  - id: vpc-12345678
    cidrs: [10.77.0.0/16]
    subnets:
      - { id: subnet-12345678, cidrs: [10.77.1.0/24] }
securityGroups:
  - id: sg-lab
    inbound:
      - { id: sgr-lab-in, protocol: all, source: 10.77.0.0/16 }
    outbound:
      - { id: sgr-lab-out, protocol: all, destination: 0.0.0.0/0 }
interfaces:
${nic(a)}
${nic(b)}
`,
    )
    const credentials = join(dir, 'credentials')
    writeFileSync(
      credentials,
      `[seed]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET}\n`,
      {
        mode: 0o600,
      },
    )
    const token = join(dir, 'token')
    writeFileSync(token, 'nhn-token-for-this-test\n', { mode: 0o600 })

    // The daemon's S3 client signs with s3rver's key, from the standard AWS environment.
    const daemon = lab.start(
      lab.hv,
      [
        process.execPath,
        repoPath('bin/flowlog.js'),
        'run',
        '--config',
        config,
        '--state',
        join(dir, 'state'),
        '--api',
        '127.0.0.1:0',
        '--api-credentials',
        credentials,
        '--api-token-file',
        token,
      ],
      { AWS_ACCESS_KEY_ID: S3_TEST_KEY, AWS_SECRET_ACCESS_KEY: S3_TEST_KEY, AWS_REGION: 'us-east-1' },
    )
    const output = collectOutput(daemon)
    const port = await waitFor(
      'the API to listen',
      () => {
        if (daemon.exitCode !== null) throw new Error(`flowlog run exited: ${output.stderr()}`)
        return logLines(output.stdout()).find((l) => l.msg === 'api listening')?.port as number | undefined
      },
      30_000,
    )
    const endpoint = `http://127.0.0.1:${port}`
    // The logs never carry the API secret.
    t.after(() => assert.ok(!output.stdout().includes(SECRET) && !output.stderr().includes(SECRET)))

    const seed = awsInNamespace(lab, endpoint, [
      'create-flow-logs',
      '--resource-type',
      'VPC',
      '--region',
      'eu-west-1',
      '--resource-ids',
      'vpc-12345678',
      '--traffic-type',
      'ALL',
      '--log-destination-type',
      's3',
      '--log-destination',
      `arn:aws:s3:::${BUCKET}`,
      '--log-format',
      SEED_FORMAT,
    ])
    assert.equal(seed.code, 0, seed.stderr)
    assert.deepEqual(Object.keys(seed.json).sort(), ['ClientToken', 'FlowLogIds', 'Unsuccessful'])
    assert.match(seed.json.FlowLogIds[0], /^fl-[0-9a-f]{17}$/)
    assert.deepEqual(seed.json.Unsuccessful, [])

    const fast = awsInNamespace(lab, endpoint, [
      'create-flow-logs',
      '--resource-type',
      'NetworkInterface',
      '--region',
      'eu-west-1',
      '--resource-ids',
      'eni-b',
      '--traffic-type',
      'ALL',
      '--log-destination-type',
      's3',
      '--log-destination',
      `arn:aws:s3:::${BUCKET}/fast/`,
      '--log-format',
      SEED_FORMAT,
      '--max-aggregation-interval',
      '2',
    ])
    assert.equal(fast.code, 0, fast.stderr)
    const fastId = fast.json.FlowLogIds[0] as string

    const described = awsInNamespace(lab, endpoint, [
      'describe-flow-logs',
      '--filter',
      'Name=resource-id,Values=vpc-12345678',
    ])
    assert.deepEqual(
      described.json.FlowLogs.map((f: Record<string, unknown>) => [
        f.FlowLogId,
        f.LogFormat,
        f.LogDestination,
      ]),
      [[seed.json.FlowLogIds[0], SEED_FORMAT, `arn:aws:s3:::${BUCKET}`]],
    )

    // Real traffic once the 2 s flow log has started; its files reach the bucket.
    const key = await waitFor(
      'a flow-log file of the 2 s flow log in S3',
      () => {
        lab.run(a.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '1', b.address])
        return s3
          ?.keys(BUCKET)
          .find((k) => k.startsWith('fast/AWSLogs/123456789012/vpcflowlogs/eu-west-1/') && k.includes(fastId))
      },
      60_000,
    )
    assert.match(
      key,
      new RegExp(`123456789012_vpcflowlogs_eu-west-1_${fastId}_\\d{8}T\\d{4}Z_[0-9a-f]+\\.log\\.gz$`),
    )
    const records = await waitFor(
      'a file with the ping',
      () => {
        lab.run(a.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '1', b.address])
        for (const k of s3?.keys(BUCKET) ?? []) {
          if (!k.startsWith('fast/')) continue
          const lines = gunzipSync(s3?.get(BUCKET, k) ?? Buffer.alloc(0))
            .toString('utf8')
            .trim()
            .split('\n')
          assert.equal(lines[0], SEED_FORMAT.replace(/\$\{([^}]+)\}/g, '$1'))
          const icmp = lines
            .slice(1)
            .map((l) => l.split(' '))
            .filter((f) => f[13] === '1' && f[20] === 'OK')
          if (icmp.length > 0) return icmp
        }
        return undefined
      },
      60_000,
    )
    const ingress = records.find((f) => f[7] === a.address && f[8] === b.address)
    assert.ok(ingress, JSON.stringify(records))
    assert.deepEqual(
      [ingress[1], ingress[2], ingress[3], ingress[4], ingress[5], ingress[6], ingress[18]],
      ['vpc-12345678', 'subnet-12345678', 'i-b', 'eni-b', '123456789012', 'IPv4', 'ACCEPT'],
    )

    daemon.kill('SIGTERM')
    await waitFor('the daemon to stop', () => (daemon.exitCode !== null ? true : undefined), 30_000)
  } finally {
    s3?.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
