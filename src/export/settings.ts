// Turns the `otlp` configuration into what a transport needs, failing fast on anything that cannot be honoured:
// unreadable TLS files, a plaintext http:// URL without `insecure`, TLS files with `insecure`. Never a silent
// fallback from TLS to plaintext.
import { readFileSync } from 'node:fs';
import type { TelegenConfig } from '../config/schema.js';
import { parseDuration } from '../config/types.js';
import { ExitCode, SubsystemError } from '../agent/errors.js';

export type OtlpSignal = 'traces' | 'metrics' | 'logs';

/**
 * gzip at zlib's fastest level, for both protocols: on span batches it costs a quarter of the default level's CPU
 * (6) for requests ~5 % larger (bench:export measures both).
 */
export const GZIP_LEVEL = 1;

export interface OtlpSettings {
  protocol: 'grpc' | 'http';
  /** http: base URL (no trailing slash); grpc: host:port. */
  target: string;
  /** What /status/export shows. */
  endpoint: string;
  tls: boolean;
  compression: 'gzip' | 'none';
  headers: Record<string, string>;
  timeoutMs: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export class ExportConfigError extends SubsystemError {
  constructor(message: string) {
    super(`export: ${message}`, ExitCode.EXPORT);
    this.name = 'ExportConfigError';
  }
}

/** Settings for the configured endpoint, or null when no OTLP endpoint is configured. */
export function otlpSettings(config: TelegenConfig): OtlpSettings | null {
  const o = config.otlp;
  const raw = o.endpoint.trim();
  if (!raw) return null;
  const m = /^(https?):\/\/(.+)$/i.exec(raw);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme === 'http' && !o.insecure) {
    throw new ExportConfigError(`otlp.endpoint "${raw}" is plaintext http:// but otlp.insecure is false; set otlp.insecure: true or use https://`);
  }
  if (scheme === 'https' && o.insecure) {
    throw new ExportConfigError(`otlp.endpoint "${raw}" is https:// but otlp.insecure is true; choose one`);
  }
  const tls = !o.insecure;
  if (!tls && (o.tls.enabled || o.tls.ca_file || o.tls.cert_file || o.tls.key_file)) {
    throw new ExportConfigError('otlp.tls is configured but otlp.insecure is true: TLS settings would be ignored');
  }
  if (!!o.tls.cert_file !== !!o.tls.key_file) throw new ExportConfigError('otlp.tls.cert_file and otlp.tls.key_file go together');
  const read = (what: string, path: string): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ExportConfigError(`cannot read ${what} ${path}: ${(e as Error).message}`);
    }
  };
  const hostPort = m ? m[2]!.replace(/\/+$/, '') : raw.replace(/\/+$/, '');
  const target = o.protocol === 'http' ? `${tls ? 'https' : 'http'}://${hostPort}` : hostPort.replace(/\/.*$/, '');
  if (o.protocol === 'grpc' && !/^[^/:]+:\d+$|^\[[0-9a-f:]+\]:\d+$/i.test(target)) {
    throw new ExportConfigError(`otlp.endpoint "${raw}" must be host:port for gRPC`);
  }
  const ca = read('otlp.tls.ca_file', o.tls.ca_file);
  const cert = read('otlp.tls.cert_file', o.tls.cert_file);
  const key = read('otlp.tls.key_file', o.tls.key_file);
  return {
    protocol: o.protocol, target, endpoint: raw, tls, compression: o.compression, headers: { ...o.headers },
    timeoutMs: parseDuration(o.timeout),
    ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}),
    rejectUnauthorized: !o.tls.insecure_skip_verify,
  };
}
