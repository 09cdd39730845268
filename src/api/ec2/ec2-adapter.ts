import { randomUUID } from 'node:crypto'
import { ControlError } from '../../control/control-error.js'
import type { ControlPlane } from '../../control/control-plane.js'
import type { Logger } from '../../ops/logger.js'
import type { ApiAdapter, ApiRequest, ApiResponse } from '../api-handler.js'
import type { Action, ActionContext } from './action.js'
import { createFlowLogs, deleteFlowLogs, describeFlowLogs } from './actions/flow-log-actions.js'
import {
  authorizeSecurityGroupEgress,
  authorizeSecurityGroupIngress,
  createSecurityGroup,
  deleteSecurityGroup,
  describeSecurityGroupRules,
  describeSecurityGroups,
  revokeSecurityGroupEgress,
  revokeSecurityGroupIngress,
} from './actions/security-group-actions.js'
import { createTags, deleteTags } from './actions/tag-actions.js'
import {
  describeNetworkInterfaces,
  describeSubnets,
  describeVpcs,
  modifyNetworkInterfaceAttribute,
} from './actions/topology-actions.js'
import type { ApiCredentials } from './api-credentials.js'
import { EC2_MODEL } from './ec2-model.generated.js'
import type { Ec2Model } from './ec2-model.js'
import { parseParams } from './query-params.js'
import { verifySigV4 } from './sigv4-verify.js'
import type { SupportedAction } from './supported-actions.js'
import { errorXml, successXml } from './xml-response.js'

/**
 * The EC2 Query API (DESIGN 10): `POST /` with a form body, SigV4-verified
 * against `--api-credentials`, decoded by botocore's model, answered in EC2's XML. Every client
 * mistake is a 4xx with EC2's error code; only a fault of flowlog itself is a 500, logged with
 * the request id and never with a secret.
 */
const ACTIONS: Record<SupportedAction, Action> = {
  AuthorizeSecurityGroupEgress: authorizeSecurityGroupEgress,
  AuthorizeSecurityGroupIngress: authorizeSecurityGroupIngress,
  CreateFlowLogs: createFlowLogs,
  CreateSecurityGroup: createSecurityGroup,
  CreateTags: createTags,
  DeleteFlowLogs: deleteFlowLogs,
  DeleteSecurityGroup: deleteSecurityGroup,
  DeleteTags: deleteTags,
  DescribeFlowLogs: describeFlowLogs,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  DescribeSecurityGroupRules: describeSecurityGroupRules,
  DescribeSecurityGroups: describeSecurityGroups,
  DescribeSubnets: describeSubnets,
  DescribeVpcs: describeVpcs,
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
  RevokeSecurityGroupEgress: revokeSecurityGroupEgress,
  RevokeSecurityGroupIngress: revokeSecurityGroupIngress,
}

export interface Ec2AdapterOptions {
  control: ControlPlane
  /** The key pairs that may call (`loadApiCredentials(--api-credentials)`); a function to allow reloads. */
  credentials: ApiCredentials | (() => ApiCredentials)
  logger?: Logger
  /** The clock SigV4 dates are checked against (tests). */
  now?: () => Date
  model?: Ec2Model
}

/** EC2's HTTP status for an error code (the SDKs read the code; the status only has to be right in kind). */
export function ec2Status(code: string): number {
  switch (code) {
    case 'AuthFailure':
    case 'MissingAuthenticationToken':
      return 401
    case 'SignatureDoesNotMatch':
    case 'UnauthorizedOperation':
      return 403
    case 'InternalError':
      return 500
    case 'ServiceUnavailable':
      return 503
    default:
      return 400
  }
}

const XML_HEADERS = { 'content-type': 'text/xml;charset=UTF-8' }

function isSupported(action: string): action is SupportedAction {
  return Object.hasOwn(ACTIONS, action)
}

export function createEc2Adapter(options: Ec2AdapterOptions): ApiAdapter {
  const model = options.model ?? EC2_MODEL
  const credentials =
    typeof options.credentials === 'function'
      ? options.credentials
      : () => options.credentials as ApiCredentials
  const now = options.now ?? (() => new Date())

  const answer = (status: number, body: string, requestId: string): ApiResponse => ({
    status,
    headers: { ...XML_HEADERS, 'x-amzn-requestid': requestId },
    body,
  })

  async function run(
    request: ApiRequest,
    requestId: string,
  ): Promise<{ action: string; caller: string; body: string }> {
    const caller = await verifySigV4(request, credentials(), now())
    const form = new URLSearchParams(request.body.toString('utf8'))
    const action = form.get('Action')
    if (action === null || action === '')
      throw new ControlError('MissingAction', 'The request must contain the parameter Action')
    if (!isSupported(action))
      throw new ControlError(
        'InvalidAction',
        `The action ${action.slice(0, 64)} is not valid for this web service.`,
      )
    const operation = model.operations[action]
    if (operation === undefined) throw new Error(`EC2 model has no operation ${action}`)
    const params = parseParams(model, operation.input, form)
    let account: Promise<string> | null = null
    const context: ActionContext = {
      control: options.control,
      account: () => {
        account ??= options.control.topology().then((t) => t.account)
        return account
      },
    }
    const output = await ACTIONS[action](context, params)
    return {
      action,
      caller: caller.profile,
      body: successXml(model, action, operation.output, output, requestId),
    }
  }

  return {
    name: 'ec2',
    // POST only: every SDK posts, and GET / stays free for the server's other pages.
    handles: (request) => request.method === 'POST' && request.path === '/',
    async handle(request) {
      const requestId = randomUUID()
      try {
        const { action, caller, body } = await run(request, requestId)
        options.logger?.info({ api: 'ec2', action, caller, requestId }, 'EC2 call')
        return answer(200, body, requestId)
      } catch (error) {
        if (error instanceof ControlError) {
          const status = ec2Status(error.code)
          const log =
            status >= 500
              ? options.logger?.error.bind(options.logger)
              : options.logger?.info.bind(options.logger)
          log?.({ api: 'ec2', code: error.code, requestId, remote: request.remoteAddress }, error.message)
          return answer(status, errorXml(error.code, error.message, requestId), requestId)
        }
        options.logger?.error({ api: 'ec2', requestId, err: error }, 'EC2 call failed')
        return answer(500, errorXml('InternalError', 'An internal error has occurred', requestId), requestId)
      }
    },
  }
}
