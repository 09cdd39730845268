import { randomUUID } from 'node:crypto'
import { ControlError } from '../../control/control-error.js'
import type { ApiResponse } from '../api-handler.js'

/**
 * An error of the NHN-style REST API, answered in the Neutron error envelope NHN Cloud's network
 * API uses: `{"NeutronError": {"type": ..., "message": ..., "detail": ""}}`. The message names the
 * field, the value and the rule; nothing secret goes into it.
 */
export class NhnError extends Error {
  readonly status: number
  readonly type: string
  constructor(status: number, type: string, message: string) {
    super(message)
    this.name = 'NhnError'
    this.status = status
    this.type = type
  }
}

export const badRequest = (message: string) => new NhnError(400, 'HTTPBadRequest', message)

const TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  404: 'HTTPNotFound',
  409: 'HTTPConflict',
  500: 'HTTPInternalServerError',
  503: 'HTTPServiceUnavailable',
}

/** A control-plane error in NHN's terms: the REST status of its AWS code. */
export function fromControlError(error: ControlError): NhnError {
  if (error.code === 'InvalidFlowLogId.NotFound')
    return new NhnError(404, 'FlowlogLoggerNotFound', error.message)
  if (error.code === 'FlowLogAlreadyExists')
    return new NhnError(409, 'FlowlogLoggerAlreadyExists', error.message)
  const status = error.httpStatus
  return new NhnError(status, TYPES[status] ?? 'HTTPBadRequest', error.message)
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): ApiResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-openstack-request-id': `req-${randomUUID()}`,
      ...headers,
    },
    body: status === 204 ? '' : JSON.stringify(body),
  }
}

export function errorResponse(error: unknown, headers: Record<string, string> = {}): ApiResponse {
  const nhn =
    error instanceof NhnError ? error : error instanceof ControlError ? fromControlError(error) : undefined
  if (nhn === undefined) throw error
  return jsonResponse(
    nhn.status,
    { NeutronError: { type: nhn.type, message: nhn.message, detail: '' } },
    headers,
  )
}
