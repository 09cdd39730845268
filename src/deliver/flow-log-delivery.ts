import type { DeliveryStatus } from '../control/resources.js'

/** A file as the daemon hears it was written (a WrittenFile's fields this needs). */
export interface WrittenFileNote {
  flowLogId: string
  key: string
  location: string
  /** It waits in the spool for its destination (an attempt is under way). */
  spooled: boolean
}

/** A delivery attempt from the spool, as the writer thread reports it. */
export interface OutcomeNote {
  flowLogId: string | null
  key: string
  delivered: boolean
  error: string | null
}

interface FlowLogState {
  lastFile: string | null
  lastFileAt: string | null
  /** Key → the last failure of that waiting file (null: no attempt failed yet). */
  waiting: Map<string, string | null>
  /** The failure of the latest attempt that failed, while files still wait. */
  lastError: string | null
}

/**
 * Each flow log's delivery as AWS's DeliverLogsStatus shows it, from the files the daemon wrote
 * and the outcomes of the spool's attempts: FAILED with the destination's last error while files
 * of that flow log wait after a failed attempt, SUCCESS otherwise. Lives on the daemon's thread;
 * counts only what this process saw (files a previous run left are counted once retried).
 */
export class FlowLogDelivery {
  private readonly states = new Map<string, FlowLogState>()

  fileWritten(file: WrittenFileNote, at: Date = new Date()): void {
    const state = this.state(file.flowLogId)
    state.lastFile = file.location
    state.lastFileAt = at.toISOString()
    if (file.spooled && !state.waiting.has(file.key)) state.waiting.set(file.key, null)
  }

  outcome(note: OutcomeNote): void {
    if (note.flowLogId === null) return
    const state = this.state(note.flowLogId)
    if (note.delivered) {
      state.waiting.delete(note.key)
      if (![...state.waiting.values()].some((e) => e !== null)) state.lastError = null
      return
    }
    const error = note.error ?? 'delivery failed'
    state.waiting.set(note.key, error)
    state.lastError = error
  }

  status(flowLogId: string): DeliveryStatus {
    const state = this.states.get(flowLogId)
    if (state === undefined) {
      return { status: 'SUCCESS', error: null, lastFile: null, lastFileAt: null, spooled: 0 }
    }
    const failing = [...state.waiting.values()].some((e) => e !== null)
    return {
      status: failing ? 'FAILED' : 'SUCCESS',
      error: failing ? state.lastError : null,
      lastFile: state.lastFile,
      lastFileAt: state.lastFileAt,
      spooled: state.waiting.size,
    }
  }

  private state(flowLogId: string): FlowLogState {
    let state = this.states.get(flowLogId)
    if (state === undefined) {
      state = { lastFile: null, lastFileAt: null, waiting: new Map(), lastError: null }
      this.states.set(flowLogId, state)
    }
    return state
  }
}
