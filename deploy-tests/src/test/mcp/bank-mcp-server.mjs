// The bank's MCP server behind the edge gateway: the official MCP TypeScript SDK serving protocol 2026-07-28 only
// (legacy requests rejected), three account tools. Each request it receives is logged as one JSON line, so a journey
// can tell what reached it: the MCP method and tool, and whether any credential came with it.
import http from 'node:http';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';

const port = Number(process.argv[2] ?? 8080);
// a statement line as the core banking system returns it: the card number is for the DLP profile to mask
const CARD = '4539 1488 0343 6467';

function serverFor(headers) {
  const server = new McpServer({ name: 'bank-accounts', version: '1.0.0' });
  server.registerTool(
    'get_balance',
    { description: "the account's balance", inputSchema: z.object({ account: z.string() }) },
    async ({ account }) => ({
      content: [{
        type: 'text',
        text: `account ${account}: 12.00 EUR, card ${CARD}; tenant ${headers['x-tenant-id'] ?? '-'}; `
          + `credential ${headers.authorization ? 'received' : 'none'}`,
      }],
    }));
  server.registerTool(
    'list_transactions',
    { description: 'recent transactions', inputSchema: z.object({ account: z.string() }) },
    async ({ account }) => ({ content: [{ type: 'text', text: `account ${account}: no transactions` }] }));
  server.registerTool(
    'transfer_funds',
    { description: 'moves money out', inputSchema: z.object({ to: z.string(), amount: z.number() }) },
    async ({ to, amount }) => ({ content: [{ type: 'text', text: `moved ${amount} to ${to}` }] }));
  return server;
}

http.createServer((req, res) => {
  console.log(JSON.stringify({
    received: req.headers['mcp-method'] ?? req.method,
    name: req.headers['mcp-name'] ?? '',
    authorization: req.headers.authorization ? 'present' : 'absent',
  }));
  toNodeHandler(createMcpHandler(() => serverFor(req.headers), { legacy: 'reject' }))(req, res);
}).listen(port, '0.0.0.0', () => console.log(`bank MCP server listening on ${port}`));
