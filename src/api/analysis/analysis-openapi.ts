import { ANALYSIS_PREFIX } from './analysis-adapter.js'

/**
 * The analysis endpoints in OpenAPI 3 terms, joined into the API's document (docs/openapi.json,
 * served at /openapi.json) by `node scripts/join-openapi.js`. Kept beside the adapter so a route and
 * its documentation change together; analysis-openapi.test.ts checks that every path answers and
 * that docs/openapi.json holds exactly this.
 */
const scopeParameters = [
  {
    name: 'since',
    in: 'query',
    description:
      'Records that end at or after: ISO 8601, unix seconds, or an age (15m, 2h, 7d), as flowlog query --since',
    schema: { type: 'string' },
  },
  {
    name: 'until',
    in: 'query',
    description: 'Records that start before (same forms as since)',
    schema: { type: 'string' },
  },
  {
    name: 'filter',
    in: 'query',
    description:
      'A filter in the language of flowlog query --where (e.g. `action = REJECT and dstport = 22`); CloudWatch patterns, regular expressions and IPv6 CIDRs are refused here',
    schema: { type: 'string' },
  },
  ...['vpc', 'subnet', 'instance', 'interface'].map((name) => ({
    name,
    in: 'query',
    description: `Only records of this ${name} id (the record's own column, or the network's interfaces inside it)`,
    schema: { type: 'string' },
  })),
]

const answer = (schema: string, description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/Analysis${schema}` } } },
})
const errors = {
  '400': answer('Error', 'A parameter is not valid; the message names it, its value and the rule'),
  '401': answer('Error', 'The server wants X-Auth-Token and it is missing or wrong'),
}
/** The token is asked for only when the server has one (flowlog run always; flowlog console when given). */
const security = [{}, { AuthToken: [] }]
const get = (summary: string, schema: string, extra: object[] = []) => ({
  get: {
    tags: ['analysis'],
    security,
    summary,
    parameters: [...scopeParameters, ...extra],
    responses: { '200': answer(schema, summary), ...errors },
  },
})
const int = (name: string, description: string, min: number, max: number, fallback: number) => ({
  name,
  in: 'query',
  description,
  schema: { type: 'integer', minimum: min, maximum: max, default: fallback },
})
const metric = {
  name: 'metric',
  in: 'query',
  schema: { type: 'string', enum: ['bytes', 'packets', 'records'], default: 'bytes' },
}

export const ANALYSIS_OPENAPI = {
  paths: {
    [`${ANALYSIS_PREFIX}summary`]: get(
      'What the records cover, the VPCs, subnets, instances and interfaces to choose from, and the security groups',
      'Summary',
    ),
    [`${ANALYSIS_PREFIX}traffic`]: get(
      'Accepted and rejected packets, bytes and records per interval',
      'Traffic',
      [
        int('step', 'Interval in seconds (default: about 120 intervals over the range)', 1, 31_536_000, 60),
        {
          name: 'by',
          in: 'query',
          description:
            "One row per interval and VPC, subnet, instance or interface (the record's column, else the network's interface), as `key`",
          schema: { type: 'string', enum: ['vpc', 'subnet', 'instance', 'interface'] },
        },
      ],
    ),
    [`${ANALYSIS_PREFIX}top`]: get('The heaviest keys (top talkers, rejected sources, ports, ...)', 'Top', [
      {
        name: 'by',
        in: 'query',
        schema: {
          type: 'string',
          enum: ['srcaddr', 'dstaddr', 'pair', 'dstport', 'srcport', 'interface', 'instance'],
          default: 'srcaddr',
        },
      },
      metric,
      int('limit', 'How many', 1, 1000, 10),
    ]),
    [`${ANALYSIS_PREFIX}edges`]: get(
      'Who talks to whom: source → destination pairs, heaviest first',
      'Edges',
      [metric, int('limit', 'How many pairs', 1, 1000, 40)],
    ),
    [`${ANALYSIS_PREFIX}flows`]: get(
      'A page of records, each with the rule that accepted it or why it was rejected, and its Community ID',
      'FlowPage',
      [
        int('offset', 'Records to skip', 0, Number.MAX_SAFE_INTEGER, 0),
        int('limit', 'Records per page', 1, 1000, 50),
      ],
    ),
    [`${ANALYSIS_PREFIX}flows.csv`]: {
      get: {
        tags: ['analysis'],
        security,
        summary: 'Every record in scope as CSV (at most 1,000,000), with the browser columns',
        parameters: scopeParameters,
        responses: {
          '200': {
            description: 'CSV with a header row',
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          ...errors,
        },
      },
    },
    [`${ANALYSIS_PREFIX}findings`]: get(
      "flowlog detect's findings with their evidence, and each block as the exact security-group change",
      'Findings',
    ),
    [`${ANALYSIS_PREFIX}audit`]: get(
      'flowlog audit: every rule with its hits, unused and too-wide rules, least-privilege replacements',
      'Audit',
    ),
    [`${ANALYSIS_PREFIX}delivery`]: {
      get: {
        tags: ['analysis'],
        security,
        summary:
          "Each flow log's delivery as the daemon sees it: status, the last file and its time, files waiting in the spool, the last error (404 without a control plane)",
        responses: {
          '200': {
            description: 'One entry per flow log',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    deliveries: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          id: { type: 'string' },
                          status: { type: 'string', enum: ['SUCCESS', 'FAILED'] },
                          error: { type: ['string', 'null'] },
                          lastFile: { type: ['string', 'null'] },
                          lastFileAt: { type: ['string', 'null'] },
                          spooled: { type: 'integer' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          '401': errors['401'],
          '404': answer('Error', 'No control plane on this server (flowlog console without --state)'),
        },
      },
    },
    [`${ANALYSIS_PREFIX}what-if`]: {
      post: {
        tags: ['analysis'],
        security,
        summary:
          'flowlog what-if: the recorded flows replayed against proposed security groups (nothing is saved)',
        parameters: [
          ...scopeParameters,
          { name: 'ruleChanges', in: 'query', schema: { type: 'boolean', default: false } },
        ],
        requestBody: {
          description:
            'The proposed groups as flowlog what-if --groups takes them: a list of groups, or { securityGroups: [...] }, JSON or YAML',
          required: true,
          content: {
            'application/json': { schema: { type: 'array', items: { type: 'object' } } },
            'application/yaml': { schema: { type: 'string' } },
          },
        },
        responses: { '200': answer('WhatIf', 'What would change'), ...errors },
      },
    },
  },
  components: {
    schemas: {
      AnalysisError: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' } },
            required: ['code', 'message'],
          },
        },
      },
      AnalysisCoverage: {
        type: 'object',
        description: 'What an answer stands on: the range asked for, the records in it and their span',
        properties: {
          since: { type: ['integer', 'null'] },
          until: { type: ['integer', 'null'] },
          first: { type: ['integer', 'null'], description: 'First start among the records (unix seconds)' },
          last: { type: ['integer', 'null'], description: 'Last end among the records' },
          records: { type: 'integer' },
          packets: { type: 'integer' },
          bytes: { type: 'integer' },
          filter: { type: ['string', 'null'] },
          place: { type: 'object', additionalProperties: { type: 'string' } },
          files: { type: 'integer' },
        },
        required: ['records', 'first', 'last', 'since', 'until'],
      },
      AnalysisSummary: withCoverage({
        choices: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
        securityGroups: { type: ['array', 'null'], items: { type: 'object' } },
      }),
      AnalysisTraffic: withCoverage({
        step: { type: 'integer' },
        series: {
          type: 'array',
          items: {
            type: 'object',
            properties: Object.fromEntries(
              [
                't',
                'accepted_packets',
                'rejected_packets',
                'accepted_bytes',
                'rejected_bytes',
                'records',
              ].map((k) => [k, { type: 'integer' }]),
            ),
          },
        },
      }),
      AnalysisTop: withCoverage({
        by: { type: 'string' },
        metric: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              value: { type: 'integer' },
              bytes: { type: 'integer' },
              packets: { type: 'integer' },
              records: { type: 'integer' },
            },
          },
        },
      }),
      AnalysisEdges: withCoverage({
        metric: { type: 'string' },
        edges: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              source: { type: 'string' },
              target: { type: 'string' },
              value: { type: 'integer' },
              bytes: { type: 'integer' },
              packets: { type: 'integer' },
              records: { type: 'integer' },
              rejected_records: { type: 'integer' },
            },
          },
        },
      }),
      AnalysisFlowPage: withCoverage({
        offset: { type: 'integer' },
        limit: { type: 'integer' },
        columns: { type: 'array', items: { type: 'string' } },
        records: {
          type: 'array',
          items: {
            type: 'object',
            description: 'Athena column names: srcaddr, rule_id, reject_reason_detail, community_id, ...',
          },
        },
      }),
      AnalysisFindings: withCoverage({
        records: { type: 'integer' },
        findings: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              detection: { type: 'string' },
              severity: { type: 'string', enum: ['low', 'medium', 'high'] },
              source: { type: 'string' },
              summary: { type: 'string' },
              evidence: { type: 'object' },
              suggestions: { type: 'array', items: { type: 'object' } },
              block: {
                type: 'array',
                description:
                  'Rule changes that block the source: authorize `authorize`, then revoke `revoke` (EC2 Authorize/RevokeSecurityGroupIngress)',
                items: {
                  type: 'object',
                  properties: {
                    groupId: { type: 'string' },
                    direction: { type: 'string', enum: ['inbound', 'outbound'] },
                    revoke: { type: 'object' },
                    authorize: { type: 'array', items: { type: 'object' } },
                    text: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      }),
      AnalysisAudit: withCoverage({
        method: { type: 'string' },
        rules: { type: 'array', items: { type: 'object' } },
      }),
      AnalysisWhatIf: withCoverage({
        proposed: { type: 'array', items: { type: 'string' } },
        acceptToReject: { type: 'integer' },
        rejectToAccept: { type: 'integer' },
        changes: { type: 'array', items: { type: 'object' } },
      }),
    },
  },
} as const

function withCoverage(properties: Record<string, object>): object {
  return {
    type: 'object',
    properties: { coverage: { $ref: '#/components/schemas/AnalysisCoverage' }, ...properties },
    required: ['coverage'],
  }
}
