// GET /status and the per-subsystem sections /status/ebpf, /status/export, /status/discovery.
import type { TSchema } from '@sinclair/typebox';
import type { ApiContext, RouteSpec } from '../route.js';
import { DiscoveryStatusSchema, EbpfStatusSchema, ExportStatusSchema, StatusSchema } from '../schemas.js';
import { DISCOVERY, EBPF, EXPORT, readSection, statusSummary } from '../subsystem-status.js';

export function statusRoutes(ctx: ApiContext): RouteSpec[] {
  const sectionRoute = (path: string, operationId: string, summary: string, schema: TSchema, read: () => unknown): RouteSpec => ({
    method: 'GET', path, operationId, tag: 'status', access: 'open', summary,
    description: `${summary}. A subsystem that is not running in this build or configuration is reported with \`enabled: false\` and counts 0.`,
    responses: { 200: { description: 'Success', schema } },
    handler: async () => read(),
  });
  return [
    {
      method: 'GET', path: '/status', operationId: 'getStatus', tag: 'status', access: 'open',
      summary: 'Detailed status information',
      description: 'Build, uptime (like `24h15m30s`), mode, host, and a summary of eBPF, profiling, export and discovery.',
      responses: { 200: { description: 'Success', schema: StatusSchema } },
      handler: async () => statusSummary(ctx.control),
    },
    sectionRoute('/status/ebpf', 'getStatusEbpf', 'eBPF-specific status', EbpfStatusSchema, () => readSection(ctx.control, EBPF)),
    sectionRoute('/status/export', 'getStatusExport', 'Export status', ExportStatusSchema, () => readSection(ctx.control, EXPORT)),
    sectionRoute('/status/discovery', 'getStatusDiscovery', 'Discovery status', DiscoveryStatusSchema, () => readSection(ctx.control, DISCOVERY)),
  ];
}
