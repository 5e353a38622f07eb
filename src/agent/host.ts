import os from 'node:os';
import type { Resource } from '../model/attributes.js';
import type { TelegenConfig } from '../config/schema.js';
import { buildInfo } from './build-info.js';

export interface HostInfo { name: string; os: string; arch: string; kernel: string }

/** Node's arch names mapped to the GOARCH-style names the API and OTel `host.arch` use. */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm32', ia32: 'x86', ppc64: 'ppc64', s390x: 's390x' };

export function hostInfo(): HostInfo {
  return { name: os.hostname(), os: os.platform(), arch: ARCH[process.arch] ?? process.arch, kernel: os.release() };
}

/** Host-level resource: host.*, os.*, service.name (OTEL_SERVICE_NAME), and OTEL_RESOURCE_ATTRIBUTES on top. */
export function hostResource(config: TelegenConfig): Resource {
  const h = hostInfo();
  return {
    attributes: {
      'host.name': h.name,
      'host.arch': h.arch,
      'os.type': h.os,
      'os.version': h.kernel,
      'service.name': config.resource.service_name || 'telegen',
      'telemetry.sdk.name': 'telegen',
      'telemetry.sdk.version': buildInfo().version,
      ...config.resource.attributes,
    },
  };
}
