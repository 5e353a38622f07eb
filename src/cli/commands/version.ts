// `telegen version`: version, commit, build time, Node.js and libbpf versions.
import { buildInfo } from '../../agent/build-info.js';
import { libbpfVersion } from '../../ebpf/libbpf-version.js';
import type { Command } from '../command.js';

export function versionInfo() {
  const b = buildInfo();
  return { version: b.version, commit: b.commit, built: b.built, node: process.version, libbpf: libbpfVersion(), os: process.platform, arch: process.arch };
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print version information.',
  usage: 'telegen version [--long] [--json]',
  flags: [
    { name: 'long', type: 'boolean', description: 'Include commit, build time, Node.js and libbpf versions.' },
    { name: 'json', type: 'boolean', description: 'Print JSON.' },
  ],
  async run({ values }) {
    const v = versionInfo();
    if (values.json) process.stdout.write(JSON.stringify(v, null, 2) + '\n');
    else if (values.long) {
      process.stdout.write(`telegen ${v.version}\n  commit:  ${v.commit}\n  built:   ${v.built}\n  node:    ${v.node}\n  libbpf:  ${v.libbpf}\n  os/arch: ${v.os}/${v.arch}\n`);
    } else process.stdout.write(`telegen ${v.version} (${v.commit})\n`);
    return 0;
  },
};
