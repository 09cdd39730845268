import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config/load-config.js'
import type { NetworkConfig } from '../core/network.js'
import { SqliteStore } from '../store/sqlite-store.js'
import type { FlowLogDraft } from './control-plane.js'
import { ControlService, type ControlServiceOptions } from './control-service.js'
import { settingsOfConfig, topologyOfConfig } from './effective-network.js'
import { reconcileWithConfig } from './seed-state.js'

/**
 * A real control plane for tests: a ControlService on a real SQLite store in a temporary
 * directory, over a two-VPC topology, seeded from the config as the daemon seeds it.
 * Used by the service's, the adapters' and the export's tests.
 */
export const TEST_CONFIG = `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16, "2001:db8:1::/56"]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24, "2001:db8:1::/64"], az: kr1-az1 }
      - { id: subnet-0a2, cidrs: [10.0.2.0/24] }
  - id: vpc-0b1
    cidrs: [172.16.0.0/16]
    subnets:
      - { id: subnet-0b1, cidrs: [172.16.1.0/24] }
securityGroups:
  - id: sg-web
    vpc: vpc-0a1
    description: web server
    inbound:
      - { id: sgr-web-http, protocol: tcp, ports: "80", source: 0.0.0.0/0 }
      - { id: sgr-web-ssh, protocol: tcp, ports: "22", source: 203.0.113.0/24 }
    outbound:
      - { id: sgr-web-out, protocol: all, destination: 0.0.0.0/0 }
  - id: sg-db
    vpc: vpc-0a1
    inbound:
      - { id: sgr-db-pg, protocol: tcp, ports: "5432", source: sg-web }
    outbound:
      - { id: sgr-db-out, protocol: all, destination: 10.0.0.0/16 }
  - id: sg-other
    vpc: vpc-0b1
interfaces:
  - { id: eni-web1, instance: i-web1, subnet: subnet-0a1, addresses: [10.0.1.10], device: veth-web, securityGroups: [sg-web] }
  - { id: eni-db1, instance: i-db1, subnet: subnet-0a2, addresses: [10.0.2.20], securityGroups: [sg-db] }
  - { id: eni-b1, subnet: subnet-0b1, addresses: [172.16.1.5], securityGroups: [sg-other] }
flowLogs:
  - { id: fl-config, resource: vpc-0a1, destination: "file:///var/tmp/flowlog-test" }
`

export interface TestControl {
  service: ControlService
  store: SqliteStore
  config: NetworkConfig
  dir: string
  /** Closes the store and removes the directory. */
  close(): Promise<void>
}

export async function openTestControl(
  options: { config?: string; seed?: boolean } & Partial<
    Pick<ControlServiceOptions, 'now' | 'deliveryStatus'>
  > = {},
): Promise<TestControl> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-control-'))
  const config = parseConfig(options.config ?? TEST_CONFIG, 'test.yaml')
  const store = SqliteStore.open(dir)
  if (options.seed !== false) await reconcileWithConfig(store, config, 'test.yaml')
  const service = new ControlService({
    store,
    topology: () => topologyOfConfig(config),
    settings: () => settingsOfConfig(config),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.deliveryStatus !== undefined ? { deliveryStatus: options.deliveryStatus } : {}),
  })
  return {
    service,
    store,
    config,
    dir,
    close: async () => {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A flow-log draft with the defaults of AWS's CreateFlowLogs to s3, to be overridden. */
export function testDraft(overrides: Partial<FlowLogDraft> = {}): FlowLogDraft {
  return {
    resourceType: 'VPC',
    trafficType: 'ALL',
    aggregationInterval: 600,
    logFormat: null,
    fields: null,
    fileFormat: 'text',
    destination: 's3://flowlog-test-bucket/logs',
    layout: 'aws',
    perHourPartition: false,
    compression: 'gzip',
    fileNameTemplate: null,
    name: null,
    description: null,
    enabled: true,
    tags: {},
    ...overrides,
  }
}
