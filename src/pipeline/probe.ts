// A cheap reachability check of the OTLP endpoint (a TCP connect, closed at once), so the `otlp` readiness
// check reflects reality before the first export attempt — at start, after a reload that changed the endpoint,
// and while the endpoint is down with nothing to send. It proves only that something listens: TLS and
// authentication problems show up at the first export, which always overrides what a probe said.
import net from 'node:net';
import type { OtlpSettings } from '../export/settings.js';

/** host and port of the endpoint (an http(s) base URL, or host:port for gRPC). */
export function endpointAddress(s: OtlpSettings): { host: string; port: number } | null {
  if (s.protocol === 'http') {
    try {
      const u = new URL(s.target);
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
    } catch {
      return null;
    }
  }
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s.target);
  return m ? { host: m[1]!, port: Number(m[2]) } : null;
}

/** null when a TCP connection could be opened within `timeoutMs`, else a short reason (as readiness shows it). */
export function probeEndpoint(s: OtlpSettings, timeoutMs: number): Promise<string | null> {
  const addr = endpointAddress(s);
  if (!addr) return Promise.resolve(null);
  return new Promise((resolve) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    const done = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`connect to ${addr.host}:${addr.port} timed out`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message || String(e.code)));
  });
}
