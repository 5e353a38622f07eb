// ${VAR} and ${VAR:-default} expansion inside YAML scalars, done on the parsed document so every error
// keeps the scalar's line. `$${X}` is a literal `${X}`. A scalar that is exactly one ${VAR} is re-read as a
// YAML scalar, so `port: ${PORT}` becomes a number and `enabled: ${ON}` a boolean.
import { isScalar, parse as parseYaml, visit, type Document, type LineCounter } from 'yaml';
import type { ConfigIssue } from './issues.js';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

export function expandVariables(doc: Document, env: NodeJS.ProcessEnv, lines: LineCounter, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const raw = node.value;
      const expanded = raw.replace(REF, (match, name: string | undefined, def: string | undefined) => {
        if (match === '$${') return '${';
        const val = env[name!];
        if (val !== undefined && val !== '') return val;
        if (def !== undefined) return def;
        if (val === '') return '';
        const pos = lines.linePos(node.range?.[0] ?? 0);
        issues.push({
          severity: 'error', path: keyPath(ancestors, node),
          message: `undefined environment variable \${${name}} (set it, or give a default with \${${name}:-value})`,
          location: `${file}:${pos.line}:${pos.col}`, line: pos.line, column: pos.col,
        });
        return '';
      });
      if (WHOLE.test(raw) && expanded !== '') {
        const reparsed: unknown = safeScalar(expanded);
        node.value = reparsed;
      } else {
        node.value = expanded;
      }
    },
  });
  return issues;
}

function safeScalar(text: string): unknown {
  try {
    const v: unknown = parseYaml(text);
    return v === null || typeof v === 'object' ? text : v;
  } catch {
    return text;
  }
}

function keyPath(ancestors: readonly unknown[], node: unknown): string {
  const parts: string[] = [];
  let child: unknown = node;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i] as { key?: unknown; value?: unknown; items?: unknown[] };
    if (a && 'key' in a && 'value' in a && a.value === child && isScalar(a.key)) parts.unshift(String(a.key.value));
    else if (a && Array.isArray(a.items)) {
      const idx = a.items.indexOf(child);
      if (idx >= 0 && !('key' in (a.items[idx] as object))) parts.unshift(`[${idx}]`);
    }
    child = a;
  }
  return parts.join('.').replace(/\.\[/g, '[');
}
