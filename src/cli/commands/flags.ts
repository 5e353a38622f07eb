import type { FlagSpec } from '../command.js';

export const CONFIG_FLAG: FlagSpec = { name: 'config', short: 'c', type: 'string', description: 'Configuration file (else TELEGEN_CONFIG_FILE, else /etc/telegen/config.yaml, else embedded defaults).', file: true };
export const MODE_FLAG: FlagSpec = { name: 'mode', type: 'string', description: 'Run mode.', values: ['agent', 'collector'] };
export const LOG_LEVEL_FLAG: FlagSpec = { name: 'log-level', short: 'l', type: 'string', description: 'Log level.', values: ['debug', 'info', 'warn', 'error'] };
export const LOG_FORMAT_FLAG: FlagSpec = { name: 'log-format', type: 'string', description: 'Log format.', values: ['json', 'text'] };
