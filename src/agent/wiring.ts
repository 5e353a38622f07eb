// The composition root: the one place that knows every subsystem and hands each the narrow interfaces it
// needs from the others. Add a subsystem here; nothing else in the Agent changes.
import type { AgentControl } from './control.js';
import type { ExportPipeline, Subsystem, SubsystemContext } from './subsystem.js';
import { createPipeline } from '../pipeline/index.js';
import { createDiscovery } from '../discovery/discovery.js';

export type { ExportPipeline };

export function buildSubsystems(
  base: Omit<SubsystemContext, 'sink'>,
  _control: AgentControl,
): { pipeline: ExportPipeline; subsystems: Subsystem[] } {
  const pipeline = createPipeline(base);
  const ctx: SubsystemContext = { ...base, sink: pipeline };
  // Discovery's catalog (ProcessCatalog) is what tracers receive; the eBPF core's ProcessEventSource goes in here.
  const discovery = createDiscovery(ctx);
  return { pipeline, subsystems: [pipeline, discovery] };
}
