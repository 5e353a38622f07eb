// `telegen validate`: check a configuration, print a summary (or every problem), `--show` the effective config.
import { stringify } from 'yaml';
import { ExitCode } from '../../agent/errors.js';
import { configSchema } from '../../config/schema.js';
import { ConfigError, formatIssue } from '../../config/issues.js';
import { loadConfig } from '../../config/load.js';
import { redact } from '../../config/schema-walk.js';
import type { Command } from '../command.js';
import { CONFIG_FLAG } from './flags.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Validate a configuration file.',
  usage: 'telegen validate [--config FILE] [--show] [--strict]',
  flags: [
    CONFIG_FLAG,
    { name: 'show', type: 'boolean', description: 'Print the effective configuration (secrets redacted).' },
    { name: 'strict', type: 'boolean', description: 'Treat unknown keys as errors.' },
  ],
  async run({ values }) {
    try {
      const { config, warnings, path } = loadConfig({ configPath: values.config as string | undefined, strict: Boolean(values.strict) });
      for (const w of warnings) process.stderr.write(formatIssue(w) + '\n');
      const o = config.otlp;
      process.stdout.write([
        '✓ Configuration is valid',
        `  source:    ${path ?? 'embedded defaults'}`,
        `  mode:      ${config.mode}`,
        `  otlp:      ${o.endpoint ? `${o.endpoint} (${o.protocol}, ${o.insecure ? 'insecure' : 'tls'}, ${o.compression})` : 'no endpoint (file exporter)'}`,
        `  ebpf:      ${config.agent.ebpf.enabled ? 'enabled' : 'disabled'}${config.agent.ebpf.required ? ' (required)' : ''}`,
        `  profiling: ${config.agent.profiling.enabled ? `enabled (${config.agent.profiling.sample_rate} Hz)` : 'disabled'}`,
        '',
      ].join('\n'));
      if (values.show) process.stdout.write(stringify(redact(configSchema, config)));
      return ExitCode.OK;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const errors = e.issues.filter((i) => i.severity === 'error');
      process.stderr.write(`✗ Configuration is invalid (${errors.length} error${errors.length === 1 ? '' : 's'})\n`);
      for (const i of e.issues) process.stderr.write(`  ${formatIssue(i)}\n`);
      return ExitCode.CONFIG;
    }
  },
};
