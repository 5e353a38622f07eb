// The composition root: the one place that knows every subsystem and hands each the narrow interfaces it
// needs from the others. Add a subsystem here; nothing else in the Agent changes.
import type { AgentControl } from './control.js';
import type { ExportPipeline, Subsystem, SubsystemContext } from './subsystem.js';
import { createPipeline } from '../pipeline/index.js';
import { createApiSubsystem } from '../api/api-subsystem.js';
import { createDiscovery } from '../discovery/discovery.js';
import { createHostMetrics } from '../hostmetrics/hostmetrics.js';
import { createEbpfCore } from '../ebpf/core.js';
import { createHttpTracer } from '../tracing/http-tracer.js';

export type { ExportPipeline };

export function buildSubsystems(
  base: Omit<SubsystemContext, 'sink'>,
  control: AgentControl,
): { pipeline: ExportPipeline; subsystems: Subsystem[] } {
  const pipeline = createPipeline(base);
  const ctx: SubsystemContext = { ...base, sink: pipeline };
  // Discovery's catalog (ProcessCatalog) is what tracers receive; the eBPF core's ProcessEventSource goes in here.
  // The eBPF core (subsystem `ebpf`): tracers receive it as their EbpfCore and declare dependsOn: ['ebpf'].
  const ebpf = createEbpfCore(ctx);
  const discovery = createDiscovery(ctx, { processEvents: ebpf });
  const hostMetrics = createHostMetrics(ctx);
  // HTTP tracing: programs loaded through the core, process selection and resources from discovery's catalog.
  const http = createHttpTracer(ctx, { ebpf, catalog: discovery });
  // The control API sees the Agent only through AgentControl. Listed first: started first and stopped last, so
  // /healthz keeps answering while the other subsystems drain during a graceful shutdown.
  const api = createApiSubsystem({ control, config: base.config, logger: base.logger, metrics: base.metrics });
  return { pipeline, subsystems: [api, pipeline, ebpf, discovery, http, hostMetrics] };
}
