import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { requireCommands } from './requirements.js'

/**
 * A real etcd for tests (DESIGN 10): Debian's /usr/bin/etcd (etcd-server) on 127.0.0.1, random
 * free ports, data in a temporary directory. One member, or a three-member cluster: three start in
 * about 1.5 s here (one in well under 0.1 s), so tests that are about the cluster take three and
 * the end-to-end tests, which already run two agents, take one. The members can be stopped and
 * started again on the same ports with the same data, which is how the tests make an outage.
 * Everything is killed and removed after the test (t.after), and at process exit should the test
 * process itself fail.
 */

const ETCD = '/usr/bin/etcd'
/** A member is up when its /health says so (it has a leader) within this. */
const START_TIMEOUT_MS = 20_000

/** Returns true when etcd is installed; otherwise skips loudly (fails under FLOWLOG_TEST_STRICT=1). */
export function requireEtcd(t: TestContext): boolean {
  return requireCommands(t, 'apt-get install etcd-server', ETCD)
}

interface Member {
  name: string
  clientPort: number
  peerPort: number
  dataDir: string
  process: ChildProcess | null
  /** The member's stderr, for the error when it does not come up. */
  log: string
}

export interface EtcdTestOptions {
  members?: 1 | 3
  /**
   * Run the members in this network namespace, listening on `address` (a fleet test's management
   * network, test/support/fleet-lab.ts); default: this namespace's 127.0.0.1.
   */
  netns?: string
  address?: string
}

export class EtcdTestCluster {
  readonly dir: string
  readonly #members: Member[]
  readonly #netns: string | null
  readonly #address: string
  #destroyed = false

  private constructor(dir: string, members: Member[], netns: string | null, address: string) {
    this.dir = dir
    this.#members = members
    this.#netns = netns
    this.#address = address
  }

  /**
   * Starts `members` members (1 or 3) and waits until each reports healthy. With a test context
   * the cluster is destroyed after the test, pass or fail.
   */
  static async start(t: TestContext | null, options: EtcdTestOptions = {}): Promise<EtcdTestCluster> {
    const count = options.members ?? 1
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-etcd-'))
    const ports = await freePorts(count * 2)
    const members = Array.from({ length: count }, (_, i) => ({
      name: `m${i}`,
      clientPort: ports[2 * i] ?? 0,
      peerPort: ports[2 * i + 1] ?? 0,
      dataDir: join(dir, `m${i}`),
      process: null,
      log: '',
    }))
    const cluster = new EtcdTestCluster(dir, members, options.netns ?? null, options.address ?? '127.0.0.1')
    live.add(cluster)
    t?.after(() => cluster.destroy())
    try {
      await cluster.start()
    } catch (error) {
      await cluster.destroy()
      throw error
    }
    return cluster
  }

  /** The client URLs, `http://ADDRESS:PORT`, one per member. */
  get endpoints(): string[] {
    return this.#members.map((m) => `http://${this.#address}:${m.clientPort}`)
  }

  /** What `--datastore` takes for these members (default all): `etcd://ADDRESS:P1,ADDRESS:P2,…`. */
  datastoreUrl(members: readonly number[] = this.#members.map((_, i) => i)): string {
    return `etcd://${members.map((i) => `${this.#address}:${this.#member(i).clientPort}`).join(',')}`
  }

  get size(): number {
    return this.#members.length
  }

  /** Starts every stopped member (same ports, same data) and waits until all are healthy. */
  async start(): Promise<void> {
    await Promise.all(this.#members.map((_, i) => this.startMember(i)))
  }

  /** Stops every member at once, as an outage: SIGKILL, no goodbye to the clients. */
  async stop(): Promise<void> {
    await Promise.all(this.#members.map((_, i) => this.stopMember(i)))
  }

  /** Starts member i again if it is stopped, and waits for its health (a leader among the members). */
  async startMember(i: number): Promise<void> {
    const m = this.#member(i)
    if (m.process !== null) return
    const host = this.#address
    const initialCluster = this.#members.map((p) => `${p.name}=http://${host}:${p.peerPort}`).join(',')
    m.log = ''
    const command = [
      ETCD,
      [
        `--name=${m.name}`,
        `--data-dir=${m.dataDir}`,
        `--listen-client-urls=http://${host}:${m.clientPort}`,
        `--advertise-client-urls=http://${host}:${m.clientPort}`,
        `--listen-peer-urls=http://${host}:${m.peerPort}`,
        `--initial-advertise-peer-urls=http://${host}:${m.peerPort}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=flowlog-test-${process.pid}`,
        // Shorter than the defaults (100/1000 ms), so a restarted cluster elects a leader sooner;
        // still loose enough for a busy two-core machine.
        '--heartbeat-interval=100',
        '--election-timeout=600',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ],
    ] as const
    // `ip netns exec` execs etcd in place: the child's pid is etcd's, so killing it kills etcd.
    const child =
      this.#netns === null
        ? spawn(command[0], command[1], { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('ip', ['netns', 'exec', this.#netns, command[0], ...command[1]], {
            stdio: ['ignore', 'ignore', 'pipe'],
          })
    m.process = child
    child.stderr?.on('data', (d: Buffer) => {
      // Enough of the tail to explain a failed start.
      m.log = (m.log + d.toString('utf8')).slice(-4000)
    })
    child.on('exit', () => {
      if (m.process === child) m.process = null
    })
    await waitHealthy(m, START_TIMEOUT_MS, this.#netns, host)
  }

  /** Kills member i (SIGKILL) and waits until it is gone. */
  async stopMember(i: number): Promise<void> {
    const child = this.#member(i).process
    if (child === null) return
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once('exit', () => resolve())
    })
    child.kill('SIGKILL')
    await exited
  }

  /** Kills every member and removes the data. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
    live.delete(this)
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    for (const m of this.#members) m.process?.kill('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }

  #member(i: number): Member {
    const m = this.#members[i]
    if (m === undefined) throw new Error(`no etcd member ${i} (the cluster has ${this.#members.length})`)
    return m
  }
}

const live = new Set<EtcdTestCluster>()
process.on('exit', () => {
  for (const cluster of live) cluster.killNow()
})

/** Ports the kernel hands out now; etcd binds them a moment later (a clash fails the start loudly). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((s) => {
    const address = s.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  })
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** Polls the member's /health (true once the cluster has a leader) until the deadline. */
async function waitHealthy(m: Member, timeoutMs: number, netns: string | null, host: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (m.process === null) {
      throw new Error(`etcd member ${m.name} exited while starting:\n${m.log}`)
    }
    if (netns === null ? await healthy(m.clientPort) : await healthyIn(netns, host, m.clientPort)) return
    if (Date.now() > deadline) {
      throw new Error(`etcd member ${m.name} was not healthy after ${timeoutMs} ms:\n${m.log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The same question asked from inside a namespace this process is not in. */
function healthyIn(netns: string, host: string, port: number): Promise<boolean> {
  const script = `require('node:http').get({host:${JSON.stringify(host)},port:${port},path:'/health',timeout:1000},(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>process.exit(r.statusCode===200&&b.includes('"true"')?0:1))}).on('error',()=>process.exit(1))`
  return new Promise((resolve) => {
    const probe = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script], { stdio: 'ignore' })
    probe.on('exit', (code) => resolve(code === 0))
    probe.on('error', () => resolve(false))
  })
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (response) => {
      let body = ''
      response.on('data', (d: Buffer) => {
        body += d.toString('utf8')
      })
      response.on('end', () => resolve(response.statusCode === 200 && body.includes('"true"')))
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(false))
  })
}
