// Prometheus remote write sender: POST snappy(WriteRequest) with the remote-write 0.1.0 headers. Outcomes are
// classified by ../outcome.ts like every exporter's.
import http from 'node:http';
import https from 'node:https';
import { classifyHttp, classifyNetworkError, ok, type ExportOutcome } from '../outcome.js';

export interface RemoteWriteSettings { endpoint: string; headers: Record<string, string>; timeoutMs: number }

export function createRemoteWriteSender(s: RemoteWriteSettings): { send(body: Buffer): Promise<ExportOutcome>; close(): void } {
  const url = new URL(s.endpoint);
  const isTls = url.protocol === 'https:';
  const agent = isTls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const request = isTls ? https.request : http.request;
  return {
    send(body) {
      return new Promise((resolve) => {
        const req = request(url, {
          method: 'POST', agent,
          headers: {
            ...s.headers, 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy',
            'X-Prometheus-Remote-Write-Version': '0.1.0', 'Content-Length': body.length,
          },
          timeout: s.timeoutMs,
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => { if (chunks.length < 64) chunks.push(c); });
          res.on('end', () => {
            const st = res.statusCode ?? 0;
            if (st >= 200 && st < 300) return resolve(ok());
            const ra = res.headers['retry-after'];
            resolve(classifyHttp(st, Array.isArray(ra) ? ra[0] : ra, Buffer.concat(chunks).toString('utf8'), 'remote_write'));
          });
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(classifyNetworkError(e)));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
