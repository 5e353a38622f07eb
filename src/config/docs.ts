// Generates docs/configuration.md from the schema, so the reference cannot drift from the code
// (test/config/docs.test.ts fails when the committed file differs from what this produces).
import type { TSchema } from '@sinclair/typebox';
import { configSchema } from './schema.js';
import { leaves } from './schema-walk.js';
import { expected } from './load.js';
import { ENV_OVERRIDES } from './overrides.js';

export function configReference(): string {
  const envByPath = new Map(ENV_OVERRIDES.map((o) => [o.path, o.env]));
  const rows = leaves(configSchema).map(({ path, schema }) => {
    const notes = [schema.description ?? ''];
    if (schema.secret || schema.secretValues) notes.push('**Secret**: shown as `<redacted>`.');
    const env = envByPath.get(path);
    if (env) notes.push(`Env: \`${env}\`.`);
    return `| \`${path}\` | ${cell(expected(schema))} | ${cell(defaultOf(schema))} | ${cell(notes.filter(Boolean).join(' '))} |`;
  });
  return `# Configuration reference

Generated from \`src/config/schema.ts\` by \`npm run docs:config\` — do not edit by hand.

YAML, snake_case keys. Precedence: flags > environment > file > defaults. \`\${VAR}\` and \`\${VAR:-default}\` expand
inside values. A misspelt key (close to a known one) is an error; any other unknown key is a warning, and an error
with \`--strict\`.

| Key | Type | Default | Description |
|---|---|---|---|
${rows.join('\n')}
`;
}

function defaultOf(s: TSchema): string {
  const nonRoot = s['x-default-nonroot'];
  const d = s.default === undefined ? '—' : `\`${JSON.stringify(s.default)}\``;
  return typeof nonRoot === 'string' ? `${d} (as root; else \`./${nonRoot}\`)` : d;
}

const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
