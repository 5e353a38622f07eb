import assert from 'node:assert/strict';
import pino from 'pino';
import type { ProcessEvent, ProcessEventSource } from '../../src/discovery/catalog.js';
import type { SubsystemContext } from '../../src/agent/subsystem.js';
import { createDiscovery } from '../../src/discovery/discovery.js';
import { loadConfigText } from '../../src/config/load.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';

/** A subsystem context from a YAML snippet (defaults for the rest), with a sink that accepts everything. */
export function testContext(yaml = ''): SubsystemContext {
  const { config } = loadConfigText(yaml, null, { env: {} });
  return {
    config, logger: pino({ level: 'silent' }), metrics: new SelfMetrics(),
    resource: { attributes: { 'host.name': 'test-host', 'service.name': 'telegen' } },
    sink: { push: (_s, items) => items.length },
  };
}

/** A stand-in for the eBPF core's exec/exit events: the test emits them by hand. */
export function fakeProcessEvents() {
  let subscriber: ((e: ProcessEvent) => void) | undefined;
  const source: ProcessEventSource = {
    subscribeProcessEvents: (cb) => { subscriber = cb; return () => { subscriber = undefined; }; },
  };
  return {
    source,
    emit: (e: ProcessEvent) => { assert.ok(subscriber, 'discovery subscribed to process events'); subscriber(e); },
    subscribed: () => subscriber !== undefined,
  };
}

/** A started discovery fed by fake process events, with every catalog change recorded as "type:pid". */
export async function eventDrivenDiscovery(yaml: string) {
  const events = fakeProcessEvents();
  const discovery = createDiscovery(testContext(yaml), { processEvents: events.source });
  await discovery.start();
  const changes: string[] = [];
  discovery.onChange((c) => changes.push(`${c.type}:${c.pid}`));
  return { events, discovery, changes };
}
