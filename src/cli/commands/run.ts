// `telegen run`: load the configuration, start the Agent, and live by signals until told to stop.
import { lowerCpuPriority } from '../../util/cpu-priority.js';
import { Agent } from '../../agent/agent.js';
import { ExitCode, SubsystemError } from '../../agent/errors.js';
import { configSchema } from '../../config/schema.js';
import { ConfigError, formatIssue } from '../../config/issues.js';
import { loadConfig, type LoadOptions } from '../../config/load.js';
import { secretValues } from '../../config/schema-walk.js';
import { createLogger, RecentLogs } from '../../logging/logger.js';
import type { Command } from '../command.js';
import { CONFIG_FLAG, LOG_FORMAT_FLAG, LOG_LEVEL_FLAG, MODE_FLAG } from './flags.js';

/** Bounded buffer of the agent's recent log lines (diagnostics / debug vars). */
export const recentLogs = new RecentLogs(1000);

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the agent (the default command).',
  usage: 'telegen [run] [--config FILE] [--mode agent|collector] [--log-level LEVEL] [--log-format json|text]',
  flags: [CONFIG_FLAG, MODE_FLAG, LOG_LEVEL_FLAG, LOG_FORMAT_FLAG],
  async run({ values }) {
    const loadOptions: LoadOptions = {
      configPath: values.config as string | undefined,
      mode: values.mode as string | undefined,
      logLevel: values['log-level'] as string | undefined,
      logFormat: values['log-format'] as string | undefined,
    };
    let loaded;
    try {
      loaded = loadConfig(loadOptions);
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`telegen: invalid configuration\n${e.issues.map(formatIssue).join('\n')}\n`);
        return ExitCode.CONFIG;
      }
      throw e;
    }
    // The logger exists before the Agent, but must scrub the secrets of whatever configuration is running.
    const running: { agent?: Agent } = {};
    const logger = createLogger({
      level: loaded.config.log_level, format: loaded.config.log_format, recent: recentLogs,
      secrets: () => secretValues(configSchema, running.agent?.config() ?? loaded.config),
    });
    for (const w of loaded.warnings) logger.warn({ path: w.path, location: w.location }, formatIssue(w));
    logger.info({ config: loaded.path ?? 'embedded defaults' }, 'configuration loaded');

    if (loaded.config.mode === 'agent') {
      const prio = lowerCpuPriority(loaded.config.agent.nice);
      if (prio.errors.length) logger.warn({ nice: prio.nice, errors: prio.errors }, 'could not lower the CPU priority of every thread');
      else if (prio.threads) logger.info({ nice: prio.nice, threads: prio.threads }, 'CPU priority lowered');
    }
    const a = new Agent({ config: loaded.config, configPath: loaded.path, loadOptions, logger, recentLogs });
    running.agent = a;
    let stopping: Promise<number> | undefined;
    const shutdown = (signal: string): Promise<number> => {
      if (stopping) {
        logger.warn({ signal }, 'second signal during shutdown: exiting now');
        process.exit(ExitCode.GENERAL);
      }
      logger.info({ signal }, 'shutting down');
      stopping = a.stop().then(() => {
        clearInterval(keepAlive);
        logger.info('stopped');
        return ExitCode.OK;
      });
      return stopping;
    };
    // Signal handlers do not keep Node's event loop alive; this handle does until shutdown completes.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const done = new Promise<number>((resolve) => {
      process.on('SIGTERM', () => void shutdown('SIGTERM').then(resolve));
      process.on('SIGINT', () => void shutdown('SIGINT').then(resolve));
    });
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading configuration');
      void a.reload().then((r) => {
        if (!r.ok) logger.error({ status: r.status, reason: r.message }, 'SIGHUP reload failed; still running on the previous configuration');
      });
    });
    process.on('SIGUSR1', () => {
      logger.info({ status: a.fullStatus(), readiness: a.readiness(), liveness: a.liveness() }, 'SIGUSR1 status dump');
    });

    try {
      await a.start();
    } catch (e) {
      const code = e instanceof SubsystemError ? e.exitCode : isPermission(e) ? ExitCode.PERMISSION : ExitCode.GENERAL;
      logger.error({ err: (e as Error).message, exit_code: code }, 'telegen failed to start');
      clearInterval(keepAlive);
      return code;
    }
    return done;
  },
};

function isPermission(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM';
}
