// Spawns the real `telegen` binary (built by the set-up) and follows its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quietConfig } from './config.js';

export const BIN = join(process.cwd(), 'bin', 'telegen.js');

export interface RunningAgent {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects after `ms`. */
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** A temp dir with config.yaml (text given) — queue and output dirs inside it. */
export function tempConfig(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-e2e-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml.replaceAll('$DIR', dir));
  return { dir, file };
}

/** Every host source off, the API on an ephemeral loopback port, data in `$DIR`. */
export const QUIET_CONFIG = quietConfig();

export function spawnAgent(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningAgent {
  const proc = spawn(process.execPath, [BIN, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let line: Record<string, unknown>;
      try { line = JSON.parse(raw) as Record<string, unknown>; } catch { line = { msg: raw, raw: true }; }
      lines.push(line);
      for (const w of [...waiters]) if (w.pred(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc, lines, exited, stderr: () => err,
    kill: (signal = 'SIGTERM') => { if (proc.exitCode === null) proc.kill(signal); },
    waitFor(pred, ms = 15000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for a log line; got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${err}`)), ms);
        waiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
        void exited.then((code) => { clearTimeout(t); reject(new Error(`agent exited (${code}) while waiting; stderr: ${err}\nlines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)); });
      });
    },
  };
}

export const msg = (text: string) => (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.includes(text);
