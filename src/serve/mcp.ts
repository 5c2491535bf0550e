// The Model Context Protocol side of `govern serve`: the SDK's Server with govern's tools, over a
// transport fed by the server's own line reader (so one reader bounds line sizes and answers
// malformed lines for both protocols). Tool results carry the answer as structured content and
// as JSON text; a bad request is a tool result with isError and a message naming the field.
import { readFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema, ErrorCode, InitializeRequestSchema, JSONRPCMessageSchema, ListToolsRequestSchema, McpError, PingRequestSchema,
  type CallToolResult, type JSONRPCMessage, type MessageExtraInfo, type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { TRUST_DELTAS } from '../ledger/state.js';
import { VERSION } from '../version.js';
import { CODE, isCallerError, type RpcErrorObject } from './jsonrpc.js';
import type { Governance } from './service.js';

const str = (description: string) => ({ type: 'string', description });

/**
 * The Request contract as JSON Schema, for MCP clients to build calls from. The server checks a
 * request with the same normalizer as `govern eval`, which names the offending field.
 */
/** The Request contract, from schemas/request.schema.json: the tools' input schema. */
export const REQUEST_SCHEMA: Tool['inputSchema'] = (() => {
  const { $schema: _s, $id: _i, title: _t, ...schema } = JSON.parse(readFileSync(new URL('../../schemas/request.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return schema as Tool['inputSchema'];
})();

interface ToolDef {
  tool: Tool;
  call: (gov: Governance, args: unknown) => unknown;
}

const TOOLS: ToolDef[] = [
  {
    tool: {
      name: 'evaluate',
      title: 'Decide a request',
      description: 'Decide whether an agent may do something: allow (tier 0-1), escalate to a human (tier 2) or deny (tier 3), with the rules that decided and where they are written. The decision is recorded in the ledger. Call it before acting; act only on allow.',
      inputSchema: REQUEST_SCHEMA,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    call: (gov, args) => gov.evaluate(args),
  },
  {
    tool: {
      name: 'explain',
      title: 'Decide a request and explain why',
      description: 'As evaluate (and recorded the same way), with the facts the policies saw (category, trust, team, budget, redacted detector findings) and every rule: matched, unmet (with the condition that does not hold) or skipped.',
      inputSchema: REQUEST_SCHEMA,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    call: (gov, args) => gov.explain(args),
  },
  {
    tool: {
      name: 'record_outcome',
      title: 'Report how an action went',
      description: `Report the outcome of the action one decision allowed, once per decision. Your own reports can only lower your trust (${Object.entries(TRUST_DELTAS).filter(([, v]) => v < 0).map(([k, v]) => `${k} ${v}`).join(', ')} by default); a success you report is recorded and raises nothing: only a human, CI or a configured reporter can raise trust. Answers trust before and after.`,
      inputSchema: {
        type: 'object',
        properties: { decision: str('the id of the decision whose action this reports (the "id" of the evaluate answer)'), agent: str('agent id (optional; must be the agent the decision was made for)'), event: { type: 'string', enum: Object.keys(TRUST_DELTAS) }, note: str('why, for the record') },
        required: ['decision', 'event'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    call: (gov, args) => gov.recordOutcome(args),
  },
  {
    tool: {
      name: 'escalation_status',
      title: 'Where an escalation stands',
      description: 'The state of an escalation (the escalation.id of an escalate decision): pending (decision "wait"), approved ("allow": evaluate the same request again and it is allowed once), denied or expired ("deny": do not act).',
      inputSchema: { type: 'object', properties: { id: str('escalation id (esc_...)') }, required: ['id'], additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    call: (gov, args) => gov.escalationStatus(args),
  },
  {
    tool: {
      name: 'wait_for_approval',
      title: 'Wait for a human to answer an escalation',
      description: 'Blocks until a human approves or denies the escalation, or timeout_seconds pass (default 60, at most 3600). Anything but approved is a deny: do not act. When approved, evaluate the same request again: it is allowed once.',
      inputSchema: { type: 'object', properties: { id: str('escalation id (esc_...)'), timeout_seconds: { type: 'number', minimum: 0, maximum: 3600, description: 'how long to wait (default 60); a timeout is a deny' } }, required: ['id'], additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    call: (gov, args) => gov.waitForApproval(args),
  },
  {
    tool: {
      name: 'record_spend',
      title: 'Record what an allowed action really cost',
      description: 'Adds the real cost of an allowed decision (dollars, tokens) to what was recorded for it before; it can only add. Budgets count the larger of the declared and the recorded cost.',
      inputSchema: { type: 'object', properties: { decision: str('the id of the allowed decision'), usd: { type: 'number', minimum: 0 }, tokens: { type: 'integer', minimum: 0 } }, required: ['decision'], additionalProperties: false },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    call: (gov, args) => gov.recordSpend(args),
  },
  {
    tool: {
      name: 'budget_status',
      title: 'Spend against budgets',
      description: "An agent's spend and tokens this hour and today, with the limits, and the share of the tightest limit used.",
      inputSchema: { type: 'object', properties: { agent: str('agent id') }, required: ['agent'], additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    call: (gov, args) => gov.budgetStatus(args),
  },
  {
    tool: {
      name: 'autonomy_rate',
      title: 'Share of decisions taken without a human',
      description: 'From the ledger: the share of decisions of tier 0-1 (allowed without a human) over the last hours (default 24), for one agent or all.',
      inputSchema: { type: 'object', properties: { agent: str('agent id (default: all agents)'), hours: { type: 'number', exclusiveMinimum: 0, maximum: 24 * 366, description: 'the window, in hours (default 24)' } }, additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    call: (gov, args) => gov.autonomyRate(args),
  },
  {
    tool: {
      name: 'status',
      title: 'Server status',
      description: 'The policy bundle being served (hash, rule count, when loaded), the last failed policy reload with its file:line:col diagnostics (the previous bundle keeps serving), and decisions served.',
      inputSchema: { type: 'object', properties: {}, additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    call: (gov, args) => gov.status(args),
  },
];

/** A transport whose input is handed to it by the server's line reader and whose output is one line a message. */
export class LineTransport implements Transport {
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private open = new Map<string | number, number>();

  constructor(private readonly write: (message: unknown) => void) {}

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    this.write(message);
    if ('id' in message && message.id !== undefined && ('result' in message || 'error' in message)) this.answered(message.id);
  }

  async close(): Promise<void> {
    this.onclose?.();
  }

  /** Requests received and not answered yet. */
  get pending(): number {
    return this.open.size;
  }

  /**
   * Hands a message to the MCP server, or says why it cannot: not an MCP message (-32600), or
   * params that do not fit the method (-32602, naming the field). The SDK would drop the first
   * silently and answer the second as an internal error.
   */
  deliver(message: unknown): RpcErrorObject | undefined {
    const parsed = JSONRPCMessageSchema.safeParse(message);
    if (!parsed.success) {
      const m = message as Record<string, unknown>;
      return {
        code: CODE.invalidRequest,
        message: m.id === null
          ? 'id: an MCP request needs a string or number id (null is not one).'
          : 'not a valid MCP message: a request has jsonrpc "2.0", an id (string or number), a method and optional params (an object), and no other fields.',
      };
    }
    const m = parsed.data;
    if ('method' in m && 'id' in m && m.id !== undefined) {
      const schema = PARAMS[m.method];
      const checked = schema?.safeParse(m);
      if (checked && !checked.success) {
        const first = checked.error.issues[0];
        return { code: CODE.invalidParams, message: issues(checked.error.issues), ...(first ? { data: { field: fieldOf(first.path) } } : {}) };
      }
      this.open.set(m.id, (this.open.get(m.id) ?? 0) + 1);
    }
    this.onmessage?.(m);
    return undefined;
  }

  private answered(id: string | number): void {
    const n = this.open.get(id);
    if (n === undefined) return;
    if (n <= 1) this.open.delete(id);
    else this.open.set(id, n - 1);
  }
}

/** The requests this server handles, whose params are checked before the SDK sees them. */
const PARAMS: Record<string, typeof PingRequestSchema | typeof InitializeRequestSchema | typeof ListToolsRequestSchema | typeof CallToolRequestSchema> = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
};

type Issue = { path: PropertyKey[]; message: string };

/** A field's name below params: `arguments`, `clientInfo.name`. */
function fieldOf(path: PropertyKey[]): string {
  const p = path[0] === 'params' ? path.slice(1) : path;
  return p.map(String).join('.') || 'params';
}

function issues(list: Issue[]): string {
  return list.slice(0, 3).map((i) => `${fieldOf(i.path)}: ${i.message.replace(/^Invalid input: /, '')}`).join('; ');
}

function result(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

/** The MCP server with govern's tools, connected to `transport`. */
export async function startMcp(gov: Governance, transport: LineTransport, log: (message: string) => void): Promise<Server> {
  const server = new Server(
    { name: 'govern', version: VERSION, title: 'govern: policy decisions for AI agents' },
    {
      capabilities: { tools: {} },
      instructions: 'Call evaluate before any action that changes or reads real systems, and act only when the decision is allow. escalate means a human must approve first: wait_for_approval with the escalation.id of the decision, then evaluate again; deny means do not. Report failures with record_outcome and real costs with record_spend.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map((t) => t.tool) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const def = TOOLS.find((t) => t.tool.name === req.params.name);
    if (!def) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${req.params.name}"; tools: ${TOOLS.map((t) => t.tool.name).join(', ')}.`);
    try {
      return result(await def.call(gov, req.params.arguments ?? {}));
    } catch (e) {
      if (!isCallerError(e)) log(`internal error in tool ${def.tool.name}: ${(e as Error)?.stack ?? String(e)}`);
      return { isError: true, content: [{ type: 'text', text: isCallerError(e) ? (e as Error).message : `internal error: ${(e as Error)?.message ?? String(e)}` }] };
    }
  });
  server.onerror = (e) => log(`MCP: ${e.message}`);
  await server.connect(transport);
  return server;
}
