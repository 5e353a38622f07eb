// The control API as a Subsystem. Everything it answers comes from AgentControl; it owns only its HTTP server.
// Reloads swap the guard (auth, rate limit, CORS, debug) atomically and, when `listen` changes, bind the new
// address before letting go of the old one — a bind failure throws, so the Agent rolls the reload back.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentControl } from '../agent/control.js';
import { failed, type Health, type Subsystem } from '../agent/subsystem.js';
import type { TelegenConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { BearerAuth } from './auth.js';
import { RuntimeStats } from './debug/runtime-stats.js';
import { openApiDocument } from './openapi.js';
import { TokenBucketLimiter } from './rate-limit.js';
import type { ApiContext, RouteSpec } from './route.js';
import { adminRoutes } from './routes/admin.js';
import { configRoutes } from './routes/config.js';
import { debugRoutes } from './routes/debug.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openApiRoute } from './routes/openapi.js';
import { statusRoutes } from './routes/status.js';
import { buildServer, type GuardState } from './server.js';
import { apiSettings, parseListen, type ApiSettings } from './settings.js';

export interface ApiDeps {
  control: AgentControl;
  config: TelegenConfig;
  logger: Logger;
  metrics: SelfMetrics;
}

/** Every route of the API reference, in one list: the server and /openapi.json both read it. */
export function apiRoutes(ctx: ApiContext): RouteSpec[] {
  let doc: string | undefined;
  const routes: RouteSpec[] = [
    ...healthRoutes(ctx), ...metricsRoutes(ctx), ...statusRoutes(ctx), ...configRoutes(ctx),
    ...debugRoutes(ctx), ...adminRoutes(ctx),
    openApiRoute(() => (doc ??= JSON.stringify(openApiDocument(routes, ctx.control.build.version)))),
  ];
  return routes;
}

export class ApiSubsystem implements Subsystem {
  readonly name = 'api';
  private guard: GuardState;
  private readonly runtime = new RuntimeStats();
  private readonly routes: RouteSpec[];
  private server?: FastifyInstance;
  private boundTo?: string;
  private url?: string;
  private running = false;

  /** A configuration the API cannot run with is reported by start() (the Agent constructs before it starts). */
  private readonly configError?: Error;

  constructor(private readonly deps: ApiDeps) {
    try {
      this.guard = this.guardFor(deps.config, undefined);
    } catch (e) {
      this.configError = e as Error;
      this.guard = { settings: { listen: deps.config.self_telemetry.listen, auth: { enabled: true, token: '', exempt: new Set() },
        rateLimit: { enabled: false, requestsPerSecond: 1 }, cors: { enabled: false, anyOrigin: false, origins: new Set() }, debug: false } };
    }
    const ctx: ApiContext = { control: deps.control, settings: () => this.guard.settings, runtime: this.runtime };
    this.routes = apiRoutes(ctx);
  }

  /** `http://127.0.0.1:<port>` once listening (what clients and tests connect to). */
  address(): string | undefined {
    return this.url;
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.configError) throw this.configError;
    this.runtime.start();
    this.runtime.setDebug(this.guard.settings.debug);
    const { server, url } = await this.bind(this.guard.settings.listen);
    this.server = server;
    this.url = url;
    this.boundTo = this.guard.settings.listen;
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const s = this.server;
    this.server = undefined;
    this.url = undefined;
    await s?.close();
    this.runtime.stop();
  }

  async reload(config: TelegenConfig): Promise<void> {
    const next = this.guardFor(config, this.guard);
    if (this.running && next.settings.listen !== this.boundTo) {
      const { server, url } = await this.bind(next.settings.listen);
      const old = this.server;
      this.server = server;
      this.url = url;
      this.boundTo = next.settings.listen;
      // Not awaited: the old server may be answering this very reload (POST /admin/reload); it finishes that
      // answer, closes idle connections, and releases its port at once.
      void old?.close().catch((e: Error) => this.deps.logger.warn({ err: e.message }, 'closing the previous API listener failed'));
    }
    this.guard = next;
    if (this.running) this.runtime.setDebug(next.settings.debug);
  }

  health(): Health {
    if (!this.running) return 'disabled';
    return this.server?.server.listening ? 'ok' : failed('not listening');
  }

  status(): unknown {
    const s = this.guard.settings;
    return {
      listen: s.listen, address: this.url ?? null, auth: s.auth.enabled, rate_limit: s.rateLimit.enabled ? s.rateLimit.requestsPerSecond : null,
      rate_limit_clients: this.guard.limiter?.clients ?? 0, cors: s.cors.enabled, debug: s.debug,
    };
  }

  /** Settings → guard; refuses bad combinations (throws). Keeps the limiter's buckets when its rate is unchanged. */
  private guardFor(config: TelegenConfig, prev: GuardState | undefined): GuardState {
    const { settings, warnings } = apiSettings(config);
    parseListen(settings.listen);
    for (const w of warnings) this.deps.logger.warn(w);
    return {
      settings,
      auth: settings.auth.enabled ? new BearerAuth(settings.auth.token) : undefined,
      limiter: !settings.rateLimit.enabled ? undefined
        : prev?.limiter && prev.limiter.ratePerSecond === settings.rateLimit.requestsPerSecond ? prev.limiter
          : new TokenBucketLimiter(settings.rateLimit.requestsPerSecond, 10_000, () => this.deps.metrics.apiRateLimitClientsDropped.inc()),
    };
  }

  private async bind(listen: string): Promise<{ server: FastifyInstance; url: string }> {
    const { host, port } = parseListen(listen);
    const server = buildServer({ routes: this.routes, guard: () => this.guard, logger: this.deps.logger, metrics: this.deps.metrics });
    try {
      if (host !== undefined) await server.listen({ host, port });
      else {
        // ":port" means every interface: dual-stack when IPv6 exists, else IPv4 only.
        try {
          await server.listen({ host: '::', port });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw e;
          await server.listen({ host: '0.0.0.0', port });
        }
      }
    } catch (e) {
      await server.close().catch(() => undefined);
      throw new Error(`self_telemetry.listen ${listen}: ${(e as Error).message}`, { cause: e });
    }
    const a = server.server.address() as AddressInfo;
    const wildcard = a.address === '::' || a.address === '0.0.0.0';
    const shown = wildcard ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const url = `http://${shown}:${a.port}`;
    this.deps.logger.info({ address: url }, 'api listening');
    return { server, url };
  }
}

export function createApiSubsystem(deps: ApiDeps): ApiSubsystem {
  return new ApiSubsystem(deps);
}

export type { ApiSettings };
