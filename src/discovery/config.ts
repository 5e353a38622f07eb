import { Duration, Int, Section, Type } from '../config/types.js';

/** One selection rule: a process matches when every criterion given matches. */
const selector = Type.Object({
  name: Type.Optional(Type.String({ description: 'Service name to give matching processes.' })),
  open_ports: Type.Optional(Type.String({ description: 'Ports and ranges, e.g. "80,443,8000-8999".', pattern: '^\\s*\\d+(\\s*-\\s*\\d+)?(\\s*,\\s*\\d+(\\s*-\\s*\\d+)?)*\\s*$' })),
  exe_path: Type.Optional(Type.String({ description: 'Glob over the executable path, e.g. "*/nginx".' })),
}, { description: 'Process selector.' });

/** `discovery`: which processes exist, what they are called, and which the tracers instrument. */
export const discoverySchema = Section({
  scan_interval: Duration('10s', 'How often /proc is rescanned (exec/exit events from eBPF update it in between).'),
  scan_interval_with_events: Duration('60s', 'Rescan interval while the eBPF core reports process events (its exec/exit/listen programs run, or an event was seen within this interval): they keep the catalog current — each exec\'d process is read again 2 s later, and a process is re-read when one of its sockets enters LISTEN. Never shorter than scan_interval.'),
  max_processes: Int(20000, 'At most this many processes are tracked; the rest are counted in telegen_discovery_processes_dropped_total.', 1),
  instrument: Type.Array(selector, { default: [], description: 'Processes to instrument; empty means every process except Telegen itself.' }),
  exclude: Type.Array(selector, { default: [], description: 'Processes never instrumented (wins over instrument).' }),
}, 'Process and service discovery.');
