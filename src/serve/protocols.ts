// What `govern serve` speaks, as `govern serve --help` shows it: the protocols on stdin and stdout,
// on a Unix socket and over HTTP, their methods and error codes, and the exit codes. Kept beside the
// servers it describes, so a change to a method or an error code is made next to its description.
export const PROTOCOLS = `
Protocols (one JSON-RPC 2.0 message a line on stdin, answers on stdout, logs on stderr):
  Each message is routed on its own: a method under governance/ is plain JSON-RPC, anything else
  goes to the MCP server, so MCP clients (initialize, tools/list, tools/call) and other processes
  both work with no setup.
  MCP tools:        evaluate, explain, record_outcome, budget_status, autonomy_rate, status
  plain methods:    governance/evaluate (params: a Request; result: the Decision),
                    governance/explain, governance/record_outcome {agent, event, note?},
                    governance/budget_status {agent}, governance/autonomy_rate {agent?, hours?},
                    governance/status
  errors:           -32700 not JSON, -32600 not JSON-RPC or a line over 1 MB, -32601 unknown method,
                    -32602 bad params (data.field names the field), -32002 needs the state file
  Policy files are watched: a change that compiles is served from the next decision on; one that
  does not is logged (file:line:col) and shown by status, and the previous policies keep serving.

Unix socket (--socket PATH): the plain methods above as JSON-RPC lines, any number of connections
  served by one process (what govern daemon start runs). The socket is created 0600 in a folder only
  you may write; a live daemon's socket is never taken over, a dead one's is removed.

HTTP (--http ADDR): the same plain methods as POST /v1/NAME with the params as a JSON body
  (/v1/evaluate, also /v1/decide, /v1/explain, ...); answers are the result, or {"error": {...}}
  with status 400, 401, 404, 405, 413 or 503. GET /healthz, GET /metrics (Prometheus text).
  A non-loopback address needs a token; bodies over 1 MB are refused.

Example:
  echo '{"jsonrpc":"2.0","id":1,"method":"governance/evaluate","params":{"agent":"ops","action":"delete","resource":"k8s:pod/web-1","environment":"staging"}}' | govern serve --stdio

Exit codes: 0 stopped on end of input, SIGTERM or SIGINT (every answered decision is recorded),
1 failure (bad policies or config at start, state file unusable, stdout closed before all answers
were written, calls unfinished 30 s after a signal).`;
