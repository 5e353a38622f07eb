// The export path reuses its buffers (the encoder's, the segment log's read-back buffer, the memory store's
// chunks). These tests prove that reuse never corrupts what is sent: many batches of different sizes (one of
// ~2 MB, so every buffer grows and is reused at another size), receivers that refuse some requests (503 /
// UNAVAILABLE) so batches are retried while the next ones are being queued, every span decoded with
// OpenTelemetry's decoder and compared field by field; and a hung transport keeps the bytes it was given.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OtlpTransport } from '../../src/export/exporter.js';
import { createHttpTransport } from '../../src/export/otlp-http/transport.js';
import { otlpSettings } from '../../src/export/settings.js';
import type { ExportOutcome } from '../../src/export/outcome.js';
import type { Span } from '../../src/model/span.js';
import { createPipeline } from '../../src/pipeline/index.js';
import { OtlpLane } from '../../src/pipeline/otlp-lane.js';
import { SegmentLog } from '../../src/pipeline/segment-log.js';
import { DiskBudget, MemoryStore, type BatchStore } from '../../src/pipeline/store.js';
import { hostRes, testConfig, testContext, tmp } from '../export/helpers/fixtures.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from '../export/helpers/receiver.js';

// Deterministic: a failure replays.
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => Math.floor(((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * n);
}

/** Span i: its ids, name and a padding attribute all derive from i, so bytes from another batch cannot pass. */
function spanOf(i: number, padLen: number): Span {
  const id = Buffer.alloc(16);
  id.writeUInt32BE(i, 12);
  id.writeUInt32BE(0x5eed0000 + (i % 65536), 0);
  const t = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_003n;
  return {
    traceId: id, spanId: id.subarray(8), name: `op-${i}`, kind: 2, startTimeUnixNano: t, endTimeUnixNano: t + BigInt(i % 977) * 1000n,
    attributes: { seq: i, pad: String.fromCharCode(97 + (i % 26)).repeat(padLen), 'http.response.status_code': 200 + (i % 5) },
    status: { code: 0 }, resource: hostRes, scope: { name: 'telegen/test' },
  };
}

interface Expected { traceId: string; spanId: string; name: string; start: string; end: string; pad: string; status: string }
const expectOf = (s: Span): Expected => ({
  traceId: Buffer.from(s.traceId).toString('hex'), spanId: Buffer.from(s.spanId).toString('hex'), name: s.name,
  start: String(s.startTimeUnixNano), end: String(s.endTimeUnixNano), pad: s.attributes.pad as string, status: String(s.attributes['http.response.status_code']),
});

/** Every span of every received request, keyed by seq; duplicates counted. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function receivedSpans(bodies: any[]): { bySeq: Map<number, Expected>; total: number } {
  const bySeq = new Map<number, Expected>();
  let total = 0;
  for (const b of bodies) {
    for (const rs of b.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const x of ss.spans ?? []) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const attr = (k: string) => x.attributes.find((kv: any) => kv.key === k)?.value;
          total++;
          bySeq.set(Number(attr('seq').intValue), {
            traceId: Buffer.from(x.traceId).toString('hex'), spanId: Buffer.from(x.spanId).toString('hex'), name: x.name,
            start: String(x.startTimeUnixNano), end: String(x.endTimeUnixNano), pad: attr('pad').stringValue, status: String(attr('http.response.status_code').intValue),
          });
        }
      }
    }
  }
  return { bySeq, total };
}

describe('buffer reuse on the export path never corrupts data', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  for (const protocol of ['http', 'grpc'] as const) {
    for (const persistent of [true, false]) {
      for (const compression of ['none', 'gzip'] as const) {
        it(`${protocol}, ${compression}, ${persistent ? 'persistent' : 'in-memory'} queue: batches of many sizes with refusals and retries arrive exactly`, async () => {
          const rand = prng(protocol.length * 7 + (persistent ? 1 : 2) * 13 + compression.length);
          const rx: Receiver = protocol === 'http' ? await startHttpReceiver() : await startGrpcReceiver();
          cleanup.push(() => rx.close());
          // About a third of the requests are refused (never two in a row): those batches are sent again.
          const refusals: boolean[] = [];
          for (let k = 0, prev = false; k < 400; k++) {
            const refuse: boolean = !prev && rand(3) === 0;
            rx.replies.push(refuse ? (protocol === 'http' ? { httpStatus: 503 } : { grpcCode: 14 }) : {});
            refusals.push(refuse);
            prev = refuse;
          }
          const p = createPipeline(testContext(testConfig({
            otlp: {
              endpoint: protocol === 'http' ? `http://127.0.0.1:${rx.port}` : `127.0.0.1:${rx.port}`, protocol, insecure: true, compression,
              flush_interval: '15ms', timeout: '5s', retry: { initial_interval: '5ms', max_interval: '20ms', multiplier: 1.5 },
              traces: { batch_size: 300, queue_capacity: 100_000 },
            },
            queue: { persistent },
          })));
          await p.start();
          cleanup.push(() => p.stop());

          const sent: Span[] = [];
          let seq = 0;
          for (let round = 0; round < 45; round++) {
            // Round 20 is one ~2 MB batch (every reused buffer grows), the others 1–650 spans of 0–1500 B padding.
            const giant = round === 20;
            const n = giant ? 280 : 1 + rand(650);
            const items = Array.from({ length: n }, () => spanOf(seq++, giant ? 7000 : rand(1500)));
            sent.push(...items);
            p.push('traces', items);
            // Sometimes let the lane send meanwhile, sometimes pile up a backlog.
            if (rand(2)) await new Promise((r) => setTimeout(r, rand(8)));
          }
          const flushed = await p.flush();
          assert.ok(flushed.traces > 0);
          const deadline = Date.now() + 30_000;
          while (receivedSpans(rx.received.map((r) => r.body)).total < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

          const got = receivedSpans(rx.received.map((r) => r.body));
          assert.equal(got.total, sent.length, 'every span exactly once (no batch lost, none sent twice)');
          assert.equal(got.bySeq.size, sent.length);
          for (const s of sent) assert.deepEqual(got.bySeq.get(s.attributes.seq as number), expectOf(s), `span ${String(s.attributes.seq)}`);
          assert.ok(rx.received.length >= 45, `many requests (${rx.received.length})`);
          const refused = refusals.slice(0, 400 - rx.replies.length).filter(Boolean).length;
          assert.ok(refused >= 10, `requests refused and retried: ${refused}`);
          if (compression === 'gzip' && protocol === 'http') assert.ok(rx.received.every((r) => r.gzip), 'gzip on the wire');
        });
      }
    }
  }
});

describe('a request the timeout guard gave up on keeps its bytes', () => {
  const bytes = (seed: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0xff));

  for (const kind of ['segment log', 'memory store'] as const) {
    it(`${kind}: the next batch is not read into the buffer a hung send still holds`, async () => {
      const budget = new DiskBudget(1 << 30);
      const store: BatchStore = kind === 'segment log' ? new SegmentLog(join(tmp('reuse'), 'traces'), budget) : new MemoryStore(budget);
      const a = bytes(1, 50_000);
      store.append(a, 1);
      let hung: Buffer | null = null;
      const delivered: Buffer[] = [];
      const transport: OtlpTransport = {
        send(_s, body): Promise<ExportOutcome> {
          // The first send never settles (a transport stuck on a dead connection), holding `body`.
          if (!hung) {
            hung = body;
            return new Promise(() => undefined);
          }
          delivered.push(Buffer.from(body));
          return Promise.resolve({ kind: 'ok', status: 'ok' });
        },
        close: async () => undefined,
      };
      const abort = new AbortController();
      const lane = new OtlpLane('traces', store, {
        transport: () => transport, timeoutMs: () => 10, policy: () => ({ initialMs: 1, maxMs: 2, multiplier: 1 }), abort: () => abort.signal,
      }, { attempted: () => undefined, finished: () => undefined });
      // The guard answers after timeout + 1 s; the retry delivers. Then two more batches of the same size, one
      // at a time, so the store would reuse the very same memory (read-back buffer, emptied chunk) for them.
      assert.equal(await lane.drain(Date.now() + 5000), true);
      store.append(bytes(2, 50_000), 1);
      assert.equal(await lane.drain(Date.now() + 5000), true);
      store.append(bytes(3, 50_000), 1);
      assert.equal(await lane.drain(Date.now() + 5000), true);
      abort.abort();
      store.close();
      assert.equal(delivered.length, 3);
      assert.deepEqual(delivered[0], a, 'the retry sent the same bytes');
      assert.deepEqual(delivered[1], bytes(2, 50_000));
      assert.deepEqual(delivered[2], bytes(3, 50_000));
      assert.ok(hung);
      assert.deepEqual(hung, a, 'the hung request still sees its own batch, not a later one');
    });
  }
});

describe('OTLP/HTTP settles only once the body has left', () => {
  it('a server that answers 401 before reading the body and stops reading: the send waits until the request is gone', async () => {
    // A real TCP server speaking HTTP/1.1: it answers as soon as it has the request head, then reads nothing more
    // and keeps the connection open (so the 8 MB body cannot leave). The caller reuses the body's buffer as soon
    // as the send settles, so settling at the answer would let a write still in progress read the next batch.
    const sockets: Socket[] = [];
    const server = createServer((sock) => {
      sockets.push(sock);
      sock.once('data', () => {
        sock.pause();
        sock.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const t = createHttpTransport(otlpSettings(testConfig({ otlp: { endpoint: `http://127.0.0.1:${port}`, protocol: 'http', insecure: true, compression: 'none' } }))!);
    try {
      const started = Date.now();
      const o = await t.send('traces', Buffer.alloc(8 * 1024 * 1024, 7), 600);
      const took = Date.now() - started;
      assert.equal(o.kind, 'permanent', 'the server\'s answer is the outcome');
      assert.equal(o.status, '401');
      assert.ok(took >= 550, `settled after the request was destroyed at the deadline, not at the answer (${took} ms)`);
    } finally {
      await t.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
