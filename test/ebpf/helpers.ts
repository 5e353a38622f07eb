// Shared by the eBPF tests: a real SubsystemContext (default config with overrides, a silent logger, fresh
// self-metrics) whose sink records what was pushed, and a skip reason when this host cannot run BPF.
import { existsSync } from 'node:fs';
import pino from 'pino';
import type { SubsystemContext } from '../../src/agent/subsystem.js';
import { defaultConfig } from '../../src/config/load.js';
import type { TelegenConfig } from '../../src/config/schema.js';
import type { SignalItem, SignalType } from '../../src/model/signals.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { addonPath, bpfObjectPath } from '../../src/ebpf/paths.js';
import { preflight } from '../../src/ebpf/preflight.js';

export type Pushed = { [S in SignalType]: SignalItem[S][] };

export function testContext(edit: (c: TelegenConfig) => void = () => {}): SubsystemContext & { pushed: Pushed } {
  const config = structuredClone(defaultConfig()) as TelegenConfig;
  edit(config);
  const pushed: Pushed = { traces: [], metrics: [], logs: [], profiles: [] };
  return {
    config,
    logger: pino({ level: 'silent' }),
    metrics: new SelfMetrics(),
    resource: { attributes: { 'host.name': 'test' } },
    pushed,
    sink: {
      push(signal, items) {
        (pushed[signal] as unknown[]).push(...items);
        return items.length;
      },
    },
  };
}

/** Why BPF tests cannot run here (printed by the skip), or undefined when they can. */
export function bpfSkipReason(): string | undefined {
  const why = preflight();
  if (why) return `eBPF unavailable: ${why}`;
  if (!existsSync(addonPath)) return `addon not built (${addonPath}); run scripts/build-native.sh`;
  if (!existsSync(bpfObjectPath('core'))) return 'BPF objects not built; run make -C bpf';
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond()` holds (polling), or fail after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
