// Every TypeScript event decoder mirrors one C layout; this compiles the C headers and checks each field
// offset and struct size the decoders use against what the C compiler says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventHeaderLayout, ProcessEventLayout } from '../../src/ebpf/events.js';
import { EVENT_HEADER_SIZE, EventKind } from '../../src/ebpf/core.js';
import { repoRoot } from '../../src/ebpf/paths.js';
import { TcpEventLayout } from '../../src/ebpf/tcp/tcp-events.js';
import { FloodEventLayout } from './flood.js';

const layouts: Record<string, { struct: string; layout: Record<string, number> }> = {
  header: { struct: 'telegen_event_header', layout: EventHeaderLayout },
  process: { struct: 'process_event', layout: ProcessEventLayout },
  tcp: { struct: 'tcp_event', layout: TcpEventLayout },
  flood: { struct: 'flood_event', layout: FloodEventLayout },
};

function compiledLayouts(): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'telegen-layout-'));
  try {
    const lines: string[] = [];
    for (const { struct, layout } of Object.values(layouts)) {
      for (const field of Object.keys(layout)) {
        const expr = field === 'SIZE' ? `sizeof(struct ${struct})` : `offsetof(struct ${struct}, ${field})`;
        lines.push(`printf("${struct}.${field}=%zu\\n", ${expr});`);
      }
    }
    for (const k of ['TG_EVENT_TCP', 'TG_EVENT_PROCESS', 'TG_EVENT_HTTP', 'TG_EVENT_TEST_FLOOD']) lines.push(`printf("${k}=%d\\n", ${k});`);
    const src = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/types.h>\n#include "events.h"\n#include "tcp.h"\n#include "flood.h"\nint main(void) {\n${lines.join('\n')}\nreturn 0;\n}\n`;
    writeFileSync(join(dir, 'layout.c'), src);
    execFileSync('clang', ['-o', join(dir, 'layout'), '-I', join(repoRoot, 'bpf'), '-I', join(repoRoot, 'bpf', 'fixtures'), join(dir, 'layout.c')]);
    const out = execFileSync(join(dir, 'layout')).toString();
    return Object.fromEntries(out.trim().split('\n').map((l) => { const [k, v] = l.split('='); return [k!, Number(v)]; }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('TypeScript event layouts match the C headers (offsets and sizes)', () => {
  const c = compiledLayouts();
  for (const { struct, layout } of Object.values(layouts)) {
    for (const [field, off] of Object.entries(layout)) assert.equal(off, c[`${struct}.${field}`], `${struct}.${field}`);
  }
  assert.equal(EVENT_HEADER_SIZE, c['telegen_event_header.SIZE']);
});

test('event kinds agree between bpf/events.h and core.ts', () => {
  const c = compiledLayouts();
  assert.equal(EventKind.TCP, c.TG_EVENT_TCP);
  assert.equal(EventKind.PROCESS, c.TG_EVENT_PROCESS);
  assert.equal(EventKind.HTTP, c.TG_EVENT_HTTP);
  assert.equal(EventKind.TEST_FLOOD, c.TG_EVENT_TEST_FLOOD);
});
