import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { requirePacketRing } from '../support/netns.js'
import { repoPath } from '../support/paths.js'
import { requireCommands, requireRoot } from '../support/requirements.js'

const dir = mkdtempSync(join(tmpdir(), 'flowlog-live-cli-'))
const config = join(dir, 'host.yaml')
writeFileSync(
  config,
  `account: "123456789012"
region: kr1
vpcs:
  - id: vpc-1
    cidrs: [10.9.0.0/16]
    subnets:
      - { id: subnet-1, cidrs: [10.9.1.0/24] }
securityGroups:
  - id: sg-web
    inbound:
      - { id: sgr-http, protocol: tcp, ports: "80-81", source: 10.9.0.0/16 }
      - { id: sgr-ping, protocol: icmp, icmpType: 8, source: 0.0.0.0/0 }
      - { id: sgr-dns, protocol: udp, ports: "53", source: sg-cli }
      - { id: sgr-v6, protocol: icmpv6, source: "::/0" }
    outbound:
      - { protocol: all, destination: 0.0.0.0/0 }
  - id: sg-cli
    outbound:
      - { protocol: all, destination: 0.0.0.0/0 }
interfaces:
  - { id: eni-a, subnet: subnet-1, addresses: [10.9.1.10], device: tap-a, securityGroups: [sg-cli] }
  - { id: eni-b, subnet: subnet-1, addresses: [10.9.1.11], device: tap-b, securityGroups: [sg-web] }
  - { id: eni-x, subnet: subnet-1, addresses: [10.9.1.12], securityGroups: [sg-web] }
flowLogs:
  - { id: fl-1, resource: vpc-1, aggregationInterval: 2, destination: "file:///tmp/unused" }
`,
)

test('flowlog run --help explains the privileges and what to install', () => {
  const help = runFlowlog(['run', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /root, or the capabilities CAP_NET_RAW and\s+CAP_NET_ADMIN/)
  assert.match(help.stdout, /apt-get install libpcap-dev && npm rebuild cap/)
  assert.match(help.stdout, /SIGHUP reloads the config/)
  assert.match(help.stdout, /--capture-backend <backend>/)
  assert.match(help.stdout, /setcap cap_net_raw,cap_net_admin\+ep "\$\(command -v tcpdump\)"/)
  assert.match(help.stdout, /--snap-length <bytes>[\s\S]*\(default:\s+256\)/)
  assert.match(help.stdout, /af-packet \(the default where it can run\) reads each device.s kernel ring/)
})

test('flowlog run refuses an unknown capture backend or snap length (exit 1)', () => {
  const backend = runFlowlog(['run', '--config', config, '--capture-backend', 'pfring'])
  assert.equal(backend.code, 1)
  assert.match(backend.stderr, /"pfring" is not a capture backend: auto, af-packet, tcpdump, libpcap/)
  const snap = runFlowlog(['run', '--config', config, '--snap-length', '40'])
  assert.equal(snap.code, 1)
  assert.match(snap.stderr, /"40" is not a snap length in bytes from 96 to 262144/)
})

test('flowlog sg render: stateful, per device, both directions, rule ids in NFLOG prefixes, two groups', (t) => {
  const r = runFlowlog(['sg', 'render', '--config', config, '--nflog-groups', '11,12'])
  assert.equal(r.code, 0, r.stderr)
  const text = r.stdout
  assert.match(text, /^add table inet flowlog\ndelete table inet flowlog\ntable inet flowlog \{$/m)
  assert.match(text, /iifname vmap \{ "tap-a" : jump if0_out, "tap-b" : jump if1_out \}/)
  assert.match(text, /oifname vmap \{ "tap-a" : jump if0_in, "tap-b" : jump if1_in \}/)
  assert.doesNotMatch(text, /eni-x/, 'an interface without a device is left out')
  assert.match(text, /ip saddr 10\.9\.0\.0\/16 tcp dport 80-81 goto a1_i_0/)
  assert.match(text, /meta nfproto ipv4 meta l4proto icmp icmp type 8 goto a1_i_1/)
  assert.match(
    text,
    /ip saddr \{ 10\.9\.1\.10 \} udp dport 53 goto a1_i_2/,
    'a group reference is its members',
  )
  assert.match(text, /meta nfproto ipv6 meta l4proto ipv6-icmp goto a1_i_3/)
  assert.match(text, /ct state established ct direction original ct mark and 0xffff0000 vmap/)
  // The platform services pass whatever the groups say, as the engine has it: one cause, several
  // match lines (the VPC resolver is 10.9.0.2), one logging chain.
  const platform = /log prefix "flowlog 1 e (\d+) eni-b implicit:platform-services"/.exec(text)
  assert.ok(platform !== null, 'the platform services have their cause')
  const p = platform[1]
  assert.match(text, new RegExp(`ip daddr 10\\.9\\.0\\.2/32 udp dport 53 goto a1_e_${p}\n`))
  assert.match(text, new RegExp(`ip daddr 169\\.254\\.169\\.0/24 goto a1_e_${p}\n`))
  assert.match(text, new RegExp(`ip saddr 169\\.254\\.169\\.0/24 goto a1_i_${p}\n`))
  assert.match(text, new RegExp(`meta nfproto ipv4 udp dport 67 goto a1_e_${p}\n`))
  assert.equal(text.match(new RegExp(`chain a1_e_${p} \\{`, 'g'))?.length, 1, 'one logging chain per cause')
  assert.match(
    text,
    /log prefix "flowlog 1 i 0 eni-b sgr-http" group 11 /,
    'accepts go to the accept group with the rule id',
  )
  assert.match(
    text,
    /log prefix "flowlog 1 i -1 eni-b no-matching-rule" group 12 [^\n]* drop/,
    'drops to the drop group',
  )
  if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v nft']).status === 0) {
    const check = spawnSync('nft', ['-c', '-f', '-'], { input: text, encoding: 'utf8' })
    assert.equal(check.status, 0, `nft -c accepts it: ${check.stderr}`)
  } else {
    t.diagnostic('nft -c not run (needs root and nftables)')
  }
})

/** flowlog run as nobody, without any capability. */
function runUnprivileged(...flags: string[]) {
  return spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      process.execPath,
      repoPath('bin/flowlog.js'),
      'run',
      '--config',
      config,
      '--no-api',
      '--no-state',
      ...flags,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  )
}

test('flowlog run without CAP_NET_RAW/CAP_NET_ADMIN fails with exit 2 and says what it needs', async (t) => {
  if (!requireRoot(t, 'to drop privileges with setpriv')) return
  if (!requireCommands(t, 'apt-get install util-linux tcpdump', 'setpriv', 'tcpdump')) return
  await t.test('default backend: neither tcpdump nor node may capture; both fixes named', () => {
    const r = runUnprivileged()
    assert.equal(r.status, 2, r.stderr)
    assert.match(
      r.stderr,
      /flowlog run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_RAW and CAP_NET_ADMIN, and tcpdump, which captures by default, may not capture either \(tcpdump: any: You don't have permission/,
    )
    assert.match(
      r.stderr,
      /grant them to tcpdump, which does not inherit node's: setcap cap_net_raw,cap_net_admin\+ep/,
    )
    assert.match(r.stderr, /or to node, for the af-packet and libpcap backends, which capture inside node/)
  })
  await t.test('--capture-backend tcpdump: tcpdump needs them itself', () => {
    const r = runUnprivileged('--capture-backend', 'tcpdump')
    assert.equal(r.status, 2, r.stderr)
    assert.match(
      r.stderr,
      /flowlog run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN for tcpdump, which captures \(--capture-backend tcpdump\) and does not inherit this process's; tcpdump says: tcpdump: any: You don't have permission/,
    )
    assert.match(
      r.stderr,
      /grant them to tcpdump: setcap cap_net_raw,cap_net_admin\+ep "\$\(command -v tcpdump\)"/,
    )
  })
  await t.test('--capture-backend af-packet: node needs CAP_NET_RAW', (t) => {
    if (!requirePacketRing(t)) return
    const r = runUnprivileged('--capture-backend', 'af-packet')
    assert.equal(r.status, 2, r.stderr)
    assert.match(
      r.stderr,
      /flowlog run needs root, or the capability CAP_NET_RAW, to capture with --capture-backend af-packet \(socket\(AF_PACKET\): Operation not permitted\)\. Run it as root \(sudo\), or grant it to node: setcap/,
    )
  })
  await t.test('--capture-backend libpcap: node needs them', () => {
    const r = runUnprivileged('--capture-backend', 'libpcap')
    assert.equal(r.status, 2, r.stderr)
    assert.match(
      r.stderr,
      /flowlog run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_RAW and CAP_NET_ADMIN\. Run it as root \(sudo\), or grant them to node: setcap/,
    )
  })
})

test('flowlog run with a config that names no device is bad input (exit 1)', (t) => {
  if (!requireRoot(t, 'flowlog run checks privileges first')) return
  const none = join(dir, 'no-device.yaml')
  writeFileSync(none, readFileSync(config, 'utf8').replace(/ device: tap-\w,/g, ''))
  const r = runFlowlog(['run', '--config', none, '--no-api', '--no-state'])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /no interface has a "device"/)
})
