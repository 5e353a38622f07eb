// OTLP/HTTP with protobuf bodies: POST <base>/v1/{traces,metrics,logs}, Content-Type application/x-protobuf,
// optional gzip, TLS with a custom CA / client certificate, keep-alive connections. Reports outcomes only.
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { OtlpTransport } from '../exporter.js';
import { classifyHttp, classifyNetworkError, corruptBatch, ok, type ExportOutcome } from '../outcome.js';
import { decodePartialSuccess } from '../proto/response.js';
import { GZIP_LEVEL, type OtlpSettings, type OtlpSignal } from '../settings.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const MAX_RESPONSE_BYTES = 1 << 20;

export function createHttpTransport(s: OtlpSettings): OtlpTransport {
  const agent = s.tls
    ? new https.Agent({ keepAlive: true, maxSockets: 4, ca: s.ca, cert: s.cert, key: s.key, rejectUnauthorized: s.rejectUnauthorized })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const request = s.tls ? https.request : http.request;
  const urls: Record<OtlpSignal, URL> = {
    traces: new URL(`${s.target}/v1/traces`), metrics: new URL(`${s.target}/v1/metrics`), logs: new URL(`${s.target}/v1/logs`),
  };

  async function send(signal: OtlpSignal, body: Buffer, timeoutMs: number, gzipped = false): Promise<ExportOutcome> {
    let payload = body;
    if (s.compression === 'gzip' && !gzipped) payload = await gzipAsync(body, { level: GZIP_LEVEL });
    // Queued compressed under an earlier configuration (a reload turned gzip off): decompress.
    else if (s.compression === 'none' && gzipped) {
      try {
        payload = await gunzipAsync(body);
      } catch (e) {
        return corruptBatch(e);
      }
    }
    const headers: Record<string, string | number> = {
      ...s.headers,
      'Content-Type': 'application/x-protobuf',
      'Content-Length': payload.length,
      ...(s.compression === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
    };
    return new Promise<ExportOutcome>((done) => {
      // Settle only once the body has left (finish) or the request is gone (close), not merely answered: the
      // caller reuses `body`'s buffer for the next batch, and a server may answer before reading everything.
      let outcome: ExportOutcome | null = null;
      let released = false;
      // The timer runs until both: a server that answered early and then never reads the rest gets its request
      // destroyed at the deadline (its answer still counts), so the send always settles.
      const finish = (o: ExportOutcome) => {
        clearTimeout(timer);
        done(o);
      };
      const resolve = (o: ExportOutcome) => {
        outcome ??= o;
        if (released) finish(outcome);
      };
      const release = () => {
        released = true;
        if (outcome) finish(outcome);
      };
      const req = request(urls[signal], { method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve(classifyNetworkError(e)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const data = Buffer.concat(chunks);
          if (status >= 200 && status < 300) {
            const ps = decodePartialSuccess(data);
            resolve(ok(ps.rejected, ps.message || undefined));
            return;
          }
          const ra = res.headers['retry-after'];
          resolve(classifyHttp(status, Array.isArray(ra) ? ra[0] : ra, describeBody(res.headers['content-type'], data)));
        });
      });
      const timer = setTimeout(() => {
        const e: NodeJS.ErrnoException = new Error(`request timed out after ${timeoutMs} ms`);
        e.code = 'ETIMEDOUT';
        req.destroy(e);
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => resolve(classifyNetworkError(e)));
      req.on('finish', release);
      req.on('close', release);
      req.end(payload);
    });
  }

  return {
    send,
    async close() {
      agent.destroy();
    },
  };
}

/** A readable error body: text as is; protobuf google.rpc.Status reduced to its printable message. */
function describeBody(contentType: string | undefined, data: Buffer): string {
  if (!data.length) return '';
  if (contentType && /json|text/.test(contentType)) return data.toString('utf8');
  return data.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim();
}
