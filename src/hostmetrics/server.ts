// The optional node_exporter-compatible endpoint: GET /metrics serves a fresh scrape.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** ":9100" → all interfaces; "127.0.0.1:9100", "[::1]:9100", "localhost:0". */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`agent.host_metrics.prometheus.listen: expected "host:port" or ":port", got "${listen}"`);
  return { host: m[1] ?? (m[2] || undefined), port: Number(m[3]) };
}

export async function startMetricsServer(listen: string, render: () => Promise<{ contentType: string; body: string }>): Promise<{ server: Server; address: AddressInfo }> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><a href="/metrics">Metrics</a></body></html>\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    render().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body);
    }, (e: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${e.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}
