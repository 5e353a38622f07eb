// A counting TCP proxy: how many bytes the client really put on the wire (to prove compression end to end).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export async function startCountingProxy(targetPort: number): Promise<{ port: number; bytesUp(): number; close(): Promise<void> }> {
  let up = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => { up += d.length; });
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    bytesUp: () => up,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
