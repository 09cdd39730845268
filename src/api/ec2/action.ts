import type { ControlPlane } from '../../control/control-plane.js'
import type { Params } from './query-params.js'
import type { OutputStruct } from './xml-response.js'

/** What an action reads besides its parameters. */
export interface ActionContext {
  control: ControlPlane
  /** The account id the topology names (OwnerId in answers); read once per request. */
  account(): Promise<string>
}

/** One EC2 action: decoded parameters in, the output shape's members (by member name) out. */
export type Action = (context: ActionContext, params: Params) => Promise<OutputStruct>
