// The bank's agent: the official MCP TypeScript SDK client, pinned to protocol 2026-07-28, with a bearer token of the
// bank's IdP. It dials the server's URL (host mcp.local) at the address the journey gives (the gateway's port on the
// node), lists its tools, reads a balance and tries a transfer; one line per step.
// usage: node agent.mjs URL HOST:PORT TOKEN
import http from 'node:http';
import { Readable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, connect, token] = process.argv.slice(2);
const target = new URL(url);
// the URL keeps the server's name, which goes out as the Host header the gateway routes on; the connection goes to the
// journey's port. node:http, since fetch() sets Host from the URL whatever the caller asks.
const [connectHost, connectPort] = connect.split(':');
const viaGateway = (input, init = {}) => new Promise((resolve, reject) => {
  const u = new URL(input instanceof Request ? input.url : input);
  const headers = Object.fromEntries(new Headers(init.headers));
  headers.host = u.host;
  const req = http.request(
    { host: connectHost, port: Number(connectPort), path: u.pathname + u.search, method: init.method ?? 'GET', headers },
    (res) => {
      const answer = new Headers();
      for (const [k, v] of Object.entries(res.headers)) answer.set(k, Array.isArray(v) ? v.join(', ') : v);
      const empty = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
      resolve(new Response(empty ? null : Readable.toWeb(res), { status: res.statusCode, headers: answer }));
    });
  req.on('error', reject);
  init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
  if (init.body) req.write(init.body);
  req.end();
});
const client = new Client(
  { name: 'bank-agent', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } });
await client.connect(new StreamableHTTPClientTransport(target, {
  fetch: viaGateway,
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
}));
console.log('TOOLS ' + JSON.stringify((await client.listTools()).tools.map((t) => t.name)));
const balance = await client.callTool({ name: 'get_balance', arguments: { account: 'CH93-0000' } });
console.log('BALANCE ' + JSON.stringify(balance.content));
try {
  const moved = await client.callTool({ name: 'transfer_funds', arguments: { to: 'CH44-9999', amount: 5000 } });
  console.log('TRANSFER ' + JSON.stringify(moved.content));
} catch (e) {
  console.log('TRANSFER_REFUSED ' + JSON.stringify({ status: e.data?.status ?? null, code: e.code ?? null, message: e.message }));
}
await client.close();
