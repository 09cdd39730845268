import type { NetworkConfig } from '../core/network.js'
import { REJECT_REASON, REJECT_REASON_NAMES } from '../core/verdict.js'
import { type CompiledPolicy, compilePolicy } from '../policy/compile-policy.js'
import { evaluateSql } from '../policy/policy-sql.js'
import { ChangedFlows, type ChangeList } from './changed-flows.js'
import { ConversationFlags } from './conversation-flags.js'
import type { Flow } from './flow.js'
import type { FlowRows } from './flow-row.js'
import { type JudgeProgress, type PlacedFlow, PROGRESS_STEP, Replay } from './rejudge.js'
import { type ReplayOptions, type ReplaySource, replaySource } from './replay-order.js'
import { ruleText } from './rule-text.js'
import type { SingleRecords } from './single-records.js'

/**
 * `flowlog what-if`: replays recorded flows against the current groups and against proposed ones,
 * with the same engine, order and connection tracking, and lists every flow whose verdict differs.
 * Comparing two replays (not the proposal with the recorded action) means that whatever a flow
 * record cannot tell the engine (packet order within a second, ICMP types) weighs the same on both
 * sides: a change is caused by the groups and nothing else. How often the current replay agrees
 * with the recorded action is reported, as a measure of how faithful the replay is.
 */

export interface Verdict {
  action: 'ACCEPT' | 'REJECT'
  /** The accepting rule id, or null. */
  rule: string | null
  /** no-matching-rule / not-established, connection-cut (its connection's first record is rejected now), or null. */
  reason: string | null
}

export interface FlowChange {
  interfaceId: string
  direction: string
  protocol: string
  srcaddr: string
  srcport: number | null
  dstaddr: string
  dstport: number | null
  records: number
  packets: number
  bytes: number
  first: number
  last: number
  /** The action in the records (null when the format has none). */
  recorded: string | null
  current: Verdict
  proposed: Verdict
  /** Why it changes: the new accepting rule, or the reason for the new reject. */
  responsible: string
}

export interface WhatIfResult {
  records: number
  replayed: number
  skipped: { unknownInterface: number; noTime: number; noAddresses: number }
  /** Records whose current replay agrees with the recorded action, of those that have one. */
  agreeing: number
  compared: number
  /** Records whose verdict changes (ACCEPT ↔ REJECT). */
  changedRecords: number
  /** Records that stay accepted or rejected, but by another rule or for another reason. */
  otherRule: number
  acceptToReject: number
  rejectToAccept: number
  first: number | null
  last: number | null
  changes: FlowChange[]
}

/**
 * A what-if whose changed flows are still in DuckDB (changed-flows.ts), to be read a chunk at a
 * time and closed: what the command line writes from, whatever their number.
 */
export interface WhatIfRun extends Omit<WhatIfResult, 'changes'> {
  changes: ChangeList
}

const SYN_ACK = 0x12
const isNewTcp = (f: Flow) => f.protocol === 6 && f.tcpFlags !== null && (f.tcpFlags & SYN_ACK) === 0x02

const CUT: Verdict = { action: 'REJECT', rule: null, reason: 'connection-cut' }

/**
 * The verdict of each cause under one policy, made once: a replay asks for one a record, and the
 * changes share them (never changed after).
 */
function verdictsOf(policy: CompiledPolicy): (cause: number) => Verdict {
  const accepted = policy.ruleIds.map((rule): Verdict => ({ action: 'ACCEPT', rule, reason: null }))
  const rejected = REJECT_REASON_NAMES.map((reason): Verdict => ({ action: 'REJECT', rule: null, reason }))
  const other: Verdict = { action: 'REJECT', rule: null, reason: 'rejected' }
  return (cause) => (cause >= 0 ? (accepted[cause] ?? ACCEPTED) : (rejected[-cause - 1] ?? other))
}

const ACCEPTED: Verdict = { action: 'ACCEPT', rule: null, reason: null }

function describe(policy: CompiledPolicy, id: string): string {
  const rule = policy.rules.find((r) => r.id === id)
  return rule === undefined ? id : `${id} (${rule.group} ${ruleText(rule.rule, rule.direction)})`
}

function responsibleFor(
  current: Verdict,
  proposed: Verdict,
  now: CompiledPolicy,
  next: CompiledPolicy,
): string {
  if (proposed.action === 'ACCEPT' && proposed.rule !== null) {
    if (current.action === 'ACCEPT')
      return `now accepted by ${describe(next, proposed.rule)} instead of ${current.rule}`
    return `accepted by ${describe(next, proposed.rule)}`
  }
  if (proposed.action === 'ACCEPT') return 'accepted'
  if (proposed.reason === 'connection-cut') {
    return 'never sent or never let in: the first record of its connection is rejected now'
  }
  if (proposed.reason === 'not-established') {
    return 'not-established: the connection it belonged to is no longer opened (its opening records are rejected now)'
  }
  const was =
    current.rule === null
      ? ''
      : next.rules.some((r) => r.id === current.rule)
        ? `; ${current.rule} now reads: ${describe(next, current.rule)}`
        : `; ${describe(now, current.rule)} is gone`
  return `no-matching-rule: no proposed rule allows it${was}`
}

/** What the single records add to a what-if's counts. */
type SinglesCounts = Pick<
  WhatIfResult,
  'agreeing' | 'compared' | 'changedRecords' | 'otherRule' | 'acceptToReject' | 'rejectToAccept'
> & { first: number; last: number }

const NO_MATCHING_RULE = -(REJECT_REASON.NO_MATCHING_RULE + 1)

/**
 * The single records (single-records.ts) under both policies, as the replay would judge them:
 * each the new traffic of a connection of its own, so the first rule of its direction that allows
 * it (the current policy's answer comes with them) or no-matching-rule, and never cut (its
 * conversation has no other record). Counted per pair of answers in DuckDB; the records of the
 * pairs that change go to `add`.
 */
async function compareSingles(
  singles: SingleRecords,
  next: CompiledPolicy,
  verdictNow: (cause: number) => Verdict,
  verdictNext: (cause: number) => Verdict,
  options: WhatIfOptions,
  add: (iface: number, p: PlacedFlow, current: Verdict, proposed: Verdict) => void,
): Promise<SinglesCounts> {
  const counts: SinglesCounts = {
    agreeing: 0,
    compared: 0,
    changedRecords: 0,
    otherRule: 0,
    acceptToReject: 0,
    rejectToAccept: 0,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
  }
  const record = {
    iface: 'iface',
    outbound: 'outbound',
    protocol: 'protocol',
    dstport: 'coalesce(dstport, 0)',
    peer: 'peer',
  }
  const judged = `(SELECT *, ${evaluateSql(next, record)} AS next FROM ${singles.relation})`
  const causeOf = (c: number) => (c >= 0 ? c : NO_MATCHING_RULE)
  const listed: string[] = []
  for await (const [now, proposed, action, n, first, last] of singles.numbers(
    `SELECT CAST(cause AS DOUBLE), CAST(next AS DOUBLE), CAST(action AS DOUBLE), CAST(count(*) AS DOUBLE),
        min(start), max(last) FROM ${judged} GROUP BY ALL`,
  )) {
    for (let row = 0; row < (now?.length ?? 0); row++) {
      const records = n?.[row] ?? 0
      const a = verdictNow(causeOf(now?.[row] ?? -1))
      const b = verdictNext(causeOf(proposed?.[row] ?? -1))
      counts.first = Math.min(counts.first, first?.[row] ?? Number.POSITIVE_INFINITY)
      counts.last = Math.max(counts.last, last?.[row] ?? Number.NEGATIVE_INFINITY)
      const recorded = action?.[row] ?? 0
      if (recorded !== 0) {
        counts.compared += records
        if ((recorded === 1 ? 'ACCEPT' : 'REJECT') === a.action) counts.agreeing += records
      }
      if (a.action === b.action && a.rule === b.rule && a.reason === b.reason) continue
      if (a.action === b.action) {
        counts.otherRule += records
        if (options.ruleChanges !== true) continue
      } else {
        counts.changedRecords += records
        if (a.action === 'ACCEPT') counts.acceptToReject += records
        else counts.rejectToAccept += records
      }
      listed.push(`(${now?.[row] ?? -1}, ${proposed?.[row] ?? -1})`)
    }
  }
  if (listed.length === 0) return counts
  const changing = `(SELECT * FROM ${judged} WHERE (cause, next) IN (${listed.join(', ')}))`
  for await (const { flows, seqs, extra } of singles.records(changing, [
    'iface',
    'direction',
    'rank',
    'cause',
    'next',
  ])) {
    const [iface, direction, rank, now, proposed] = extra
    for (let i = 0; i < flows.length; i++) {
      const flow = flows[i] as Flow
      const p: PlacedFlow = {
        flow,
        iface: iface?.[i] ?? 0,
        direction: (direction?.[i] ?? 0) as PlacedFlow['direction'],
        time: flow.start ?? 0,
        rank: rank?.[i] ?? 0,
        words: NO_WORDS,
        group: 0,
        seq: seqs[i] ?? 0,
      }
      add(p.iface, p, verdictNow(causeOf(now?.[i] ?? -1)), verdictNext(causeOf(proposed?.[i] ?? -1)))
    }
  }
  return counts
}

/** Changed records are staged by their texts: the parsed addresses are not read. */
const NO_WORDS = new Uint32Array(8)

export interface WhatIfOptions extends ReplayOptions {
  /** Also list flows that stay accepted but by another rule (default: only verdict changes). */
  ruleChanges?: boolean
  /** Told how far the two replays are (a progress bar): records judged of both replays' total. */
  onProgress?: JudgeProgress
}

/** A what-if with every changed flow in memory (the console's answer, tests). */
export async function whatIf(
  rows: FlowRows,
  current: NetworkConfig,
  proposed: NetworkConfig,
  options: WhatIfOptions = {},
): Promise<WhatIfResult> {
  const run = await whatIfRun(rows, current, proposed, options)
  try {
    const changes: FlowChange[] = []
    for await (const batch of run.changes.batches()) for (const c of batch) changes.push(c)
    return { ...run, changes }
  } finally {
    run.changes.close()
  }
}

/** A what-if whose changed flows stay in DuckDB until read: the caller closes `changes`. */
export async function whatIfRun(
  rows: FlowRows,
  current: NetworkConfig,
  proposed: NetworkConfig,
  options: WhatIfOptions = {},
): Promise<WhatIfRun> {
  const now = compilePolicy(current)
  const next = compilePolicy(proposed)
  const source = await replaySource(rows, current, now, { ...options, singles: options.singles ?? true })
  let replayed: Replayed
  try {
    replayed = await compareReplays(source, current, now, next, options)
  } finally {
    source.close()
  }
  // Grouped once the sort's DuckDB and the replay's tables are gone: not both at once.
  return { ...replayed.summary, changes: await replayed.changes.finish() }
}

/** A replay's counts, and its changed records staged but not grouped yet. */
interface Replayed {
  summary: Omit<WhatIfRun, 'changes'>
  changes: ChangedFlows
}

/**
 * Replays the records in replay order under both policies side by side (each replay depends only
 * on the records before it, so in step or one after the other is the same), staging each changed
 * record for DuckDB to group into flows (changed-flows.ts), and keeps one flag per conversation of
 * the group being replayed: never the records.
 */
async function compareReplays(
  source: ReplaySource,
  current: NetworkConfig,
  now: CompiledPolicy,
  next: CompiledPolicy,
  options: WhatIfOptions,
): Promise<Replayed> {
  // Both policies in step: each record's packet is made once, and its end-of-record touch serves both.
  const replay = new Replay(source.index, [now, next])
  const progress = options.onProgress
  let agreeing = 0
  let compared = 0
  let acceptToReject = 0
  let rejectToAccept = 0
  let changedRecords = 0
  let otherRule = 0
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  let judged = 0
  const conversations = new ConversationFlags()
  const verdictNow = verdictsOf(now)
  const verdictNext = verdictsOf(next)
  // The text of why a flow changes is made once per pair of verdicts (ChangedFlows numbers them).
  const changes = new ChangedFlows((a, b) => responsibleFor(a, b, now, next))
  let group = Number.NaN
  const compare = (p: PlacedFlow) => {
    const f = p.flow
    // The records come a conversation group at a time: the next group's connections are new.
    if (p.group !== group) {
      group = p.group
      replay.clear()
      conversations.clear()
    }
    first = Math.min(first, p.time)
    last = Math.max(last, f.end ?? p.time)
    replay.judge(p)
    const a = verdictNow(replay.causes[0] ?? -1)
    let b = verdictNext(replay.causes[1] ?? -1)
    // A connection the proposal stops at its first record never gets its answers or the rest of
    // its packets: the replay alone would let the answer open a connection of its own.
    const protocol = f.protocol ?? 0
    const srcport = f.srcport ?? 0
    const dstport = f.dstport ?? 0
    const cut = conversations.get(p.iface, protocol, p.words, srcport, dstport)
    if (cut === undefined || isNewTcp(f))
      conversations.setLast(a.action === 'ACCEPT' && b.action === 'REJECT')
    else if (cut && b.action === 'ACCEPT') b = CUT
    if (f.action !== null) {
      compared++
      if (f.action === a.action) agreeing++
    }
    if (a.action === b.action && a.rule === b.rule && a.reason === b.reason) return
    if (a.action === b.action) {
      otherRule++
      if (options.ruleChanges !== true) return
    } else {
      changedRecords++
      if (a.action === 'ACCEPT') acceptToReject++
      else rejectToAccept++
    }
    changes.add(current.interfaces[p.iface]?.id ?? '?', p, a, b)
  }
  // Progress counts both replays' records, as when they ran one after the other.
  const total = 2 * source.expected
  try {
    const singles = source.singles
    if (singles !== null) {
      // The records alone in their connection, judged by both policies in DuckDB.
      const s = await compareSingles(singles, next, verdictNow, verdictNext, options, (iface, p, a, b) =>
        changes.add(current.interfaces[iface]?.id ?? '?', p, a, b),
      )
      agreeing += s.agreeing
      compared += s.compared
      changedRecords += s.changedRecords
      otherRule += s.otherRule
      acceptToReject += s.acceptToReject
      rejectToAccept += s.rejectToAccept
      first = s.first
      last = s.last
    }
    for await (const batch of source.batches()) {
      for (const p of batch) {
        compare(p)
        judged++
        if (progress !== undefined && judged % PROGRESS_STEP === 0) progress(2 * judged, total)
      }
    }
    progress?.(2 * judged, 2 * judged)
    replay.finish()
  } catch (error) {
    changes.close()
    throw error
  }
  const placed = source.placed
  const summary = {
    records: source.records,
    replayed: placed,
    skipped: source.skipped,
    agreeing,
    compared,
    changedRecords,
    otherRule,
    acceptToReject,
    rejectToAccept,
    first: placed > 0 ? first : null,
    last: placed > 0 ? last : null,
  }
  return { summary, changes }
}
