// Steady HTTP load with numbered paths (`<prefix><n>`), each request on its own connection (the eBPF tracer sees
// only connections accepted while it is attached, so a kept-alive socket from before an agent restart would be
// invisible). Only requests answered 200 are reported as made: those are the ones a span must exist for.
import http from 'node:http';

export interface LoadRun {
  /** Stop issuing requests; resolves with the ids completed (after every in-flight request finished). */
  stop(): Promise<number[]>;
  /** Requests completed so far. */
  completed(): number;
}

function get(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** `workers` sequential clients, each pausing `gapMs` between requests; ids from `firstId` upwards. */
export function startLoad(port: number, prefix: string, firstId: number, opts: { workers?: number; gapMs?: number } = {}): LoadRun {
  let next = firstId;
  let stopped = false;
  const done: number[] = [];
  const worker = async () => {
    while (!stopped) {
      const id = next++;
      if (await get(port, `${prefix}${id}`)) done.push(id);
      await new Promise((r) => setTimeout(r, opts.gapMs ?? 10));
    }
  };
  const workers = Array.from({ length: opts.workers ?? 2 }, worker);
  return {
    completed: () => done.length,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return done.sort((a, b) => a - b);
    },
  };
}

/** One request; true when answered 200. */
export const getOnce = get;
