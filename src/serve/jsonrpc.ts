// JSON-RPC 2.0 as `govern serve` reads it: the error codes, the check of a message's envelope,
// and the mapping of the service's errors to error objects. One message a line, no batches.
import { RequestError } from '../request/normalize.js';
import { ParamsError, UnavailableError } from './service.js';

export const CODE = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Server-defined: the method needs something this server was started without (the state file). */
  unavailable: -32002,
} as const;

export type Id = string | number | null;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcRequest {
  id?: Id;
  method: string;
  params?: unknown;
}

/** What a parsed line is: a request or notification, a response (to the MCP side), or invalid. */
export type Envelope =
  | { kind: 'request'; message: RpcRequest & Record<string, unknown>; id: Id | undefined }
  | { kind: 'response'; message: Record<string, unknown> }
  | { kind: 'invalid'; id: Id; error: RpcErrorObject };

function isId(v: unknown): v is Id {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export function classify(msg: unknown): Envelope {
  const invalid = (message: string, id: Id = null): Envelope => ({ kind: 'invalid', id, error: { code: CODE.invalidRequest, message } });
  if (Array.isArray(msg)) return invalid('batches (JSON arrays) are not supported; send one message a line.');
  if (typeof msg !== 'object' || msg === null) return invalid(`a message must be a JSON object, not ${msg === null ? 'null' : typeof msg}.`);
  const m = msg as Record<string, unknown>;
  const id = isId(m.id) ? m.id : null;
  if (m.jsonrpc !== '2.0') return invalid('jsonrpc: must be "2.0".', id);
  if ('id' in m && !isId(m.id)) return invalid('id: must be a string, a number or null.');
  if ('method' in m) {
    if (typeof m.method !== 'string' || !m.method) return invalid('method: must be a non-empty string.', id);
    if ('params' in m && (typeof m.params !== 'object' || m.params === null)) return invalid('params: must be an object (or an array).', id);
    return { kind: 'request', message: m as RpcRequest & Record<string, unknown>, id: 'id' in m ? (m.id as Id) : undefined };
  }
  if ('id' in m && ('result' in m || 'error' in m)) return { kind: 'response', message: m };
  return invalid('not a request (no method) nor a response (no result or error).', id);
}

export function errorOf(e: unknown): RpcErrorObject {
  if (e instanceof RequestError) return { code: CODE.invalidParams, message: e.message, data: { field: e.field } };
  if (e instanceof ParamsError) return { code: CODE.invalidParams, message: e.message, data: { field: e.field } };
  if (e instanceof UnavailableError) return { code: CODE.unavailable, message: e.message };
  return { code: CODE.internalError, message: `internal error: ${(e as Error)?.message ?? String(e)}` };
}

/** Errors the caller caused (bad params, a missing state file), as opposed to faults of the server. */
export function isCallerError(e: unknown): boolean {
  return e instanceof RequestError || e instanceof ParamsError || e instanceof UnavailableError;
}

export function response(id: Id, result: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', id, result };
}

export function errorResponse(id: Id, error: RpcErrorObject): Record<string, unknown> {
  return { jsonrpc: '2.0', id, error };
}
