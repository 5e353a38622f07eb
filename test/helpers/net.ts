import { createServer } from 'node:net';

/** A loopback TCP port that was free a moment ago (for real servers a test starts: Prometheus, nginx, …). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
