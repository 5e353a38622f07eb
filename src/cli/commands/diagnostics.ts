// `telegen diagnostics`: a .tar.gz support bundle. Asks the running agent's API when one answers on the
// configured address; otherwise collects what it can itself. The configuration is always redacted unless
// --include-config asks for the raw file too.
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'yaml';
import { configSchema, type TelegenConfig } from '../../config/schema.js';
import { loadConfig } from '../../config/load.js';
import { redact } from '../../config/schema-walk.js';
import type { Command } from '../command.js';
import { CONFIG_FLAG } from './flags.js';
import { versionInfo } from './version.js';

export const diagnosticsCommand: Command = {
  name: 'diagnostics',
  summary: 'Collect a support bundle (.tar.gz) of system, eBPF, metrics and configuration information.',
  usage: 'telegen diagnostics [--output FILE] [--include-config] [--include-logs] [--config FILE]',
  flags: [
    { name: 'output', short: 'o', type: 'string', description: 'Write the bundle here (default: stdout).', file: true },
    { name: 'include-config', type: 'boolean', description: 'Also include the raw (unredacted) configuration file.' },
    { name: 'include-logs', type: 'boolean', description: 'Include recent agent logs.' },
    { name: 'endpoint', type: 'string', description: 'Agent API base URL (default: from self_telemetry.listen).' },
    CONFIG_FLAG,
  ],
  async run({ values }) {
    const files: Array<[string, string]> = [];
    let config: TelegenConfig | undefined;
    let configPath: string | null = null;
    try {
      const loaded = loadConfig({ configPath: values.config as string | undefined });
      config = loaded.config;
      configPath = loaded.path;
    } catch (e) {
      files.push(['config-error.txt', (e as Error).message + '\n']);
    }
    const base = (values.endpoint as string | undefined) ?? (config ? apiBase(config.self_telemetry.listen) : undefined);
    const token = config?.self_telemetry.auth.enabled ? config.self_telemetry.auth.bearer_token : undefined;
    const agent = base ? await fetchText(`${base}/healthz`, token) : undefined;
    const running = agent !== undefined;

    files.push(['version.json', JSON.stringify(versionInfo(), null, 2) + '\n']);
    files.push(['system.json', JSON.stringify(systemInfo(), null, 2) + '\n']);
    files.push(['agent.txt', running ? `agent answering at ${base}\n` : `no agent answered${base ? ` at ${base}` : ''}; collected locally\n`]);
    if (running) {
      for (const [name, path] of [['status.json', '/status'], ['status-ebpf.json', '/status/ebpf'], ['status-export.json', '/status/export'],
        ['status-discovery.json', '/status/discovery'], ['ready.json', '/ready'], ['metrics.txt', '/metrics'], ['config.json', '/config']] as const) {
        const body = await fetchText(`${base}${path}`, token);
        if (body !== undefined) files.push([name, body]);
      }
      if (values['include-logs']) {
        const vars = await fetchText(`${base}/debug/vars`, token);
        const logs = vars ? (JSON.parse(vars) as { recent_logs?: string[] }).recent_logs : undefined;
        files.push(['logs.txt', logs ? logs.join('') : journal() ?? 'recent logs are served from /debug/vars when self_telemetry.debug.enabled; journalctl had none\n']);
      }
    } else {
      if (config) files.push(['config.yaml', stringify(redact(configSchema, config))]);
      files.push(['ebpf-programs.json', run('bpftool', ['-j', 'prog', 'list']) ?? '"bpftool not available"\n']);
      files.push(['metrics.txt', 'agent not running: no metrics snapshot\n']);
      if (values['include-logs']) files.push(['logs.txt', journal() ?? 'agent not running and journalctl has no telegen unit logs\n']);
    }
    if (values['include-config'] && configPath && existsSync(configPath)) files.push(['config.raw.yaml', readFileSync(configPath, 'utf8')]);

    // tar-stream is only needed here: not loaded by `telegen run`.
    const { pack } = await import('tar-stream');
    const tar = pack();
    for (const [name, body] of files) tar.entry({ name: `telegen-diagnostics/${name}`, mode: 0o600 }, body);
    tar.finalize();
    const out = values.output ? createWriteStream(values.output as string, { mode: 0o600 }) : process.stdout;
    await pipeline(tar, createGzip(), out);
    if (values.output) process.stderr.write(`diagnostics written to ${values.output} (${files.length} files)\n`);
    return 0;
  },
};

function apiBase(listen: string): string {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const port = listen.slice(i + 1);
  const h = !host || host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${h}:${port}`;
}

async function fetchText(url: string, token?: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(3000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString();
  } catch {
    return undefined;
  }
}

function journal(): string | undefined {
  const out = run('journalctl', ['-u', 'telegen', '-n', '1000', '--no-pager']);
  return out && !out.includes('No entries') ? out : undefined;
}

const CAPS = ['chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module',
  'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time',
  'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog',
  'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore'];

/** Kernel, distro, arch, BTF, effective capabilities: what decides whether eBPF can work here. */
export function systemInfo() {
  let capEff = 0n;
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) capEff = BigInt(`0x${m[1]}`);
  } catch { /* not Linux */ }
  let distro = 'unknown';
  try {
    distro = /PRETTY_NAME="?([^"\n]+)/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch { /* keep unknown */ }
  return {
    hostname: os.hostname(), kernel: os.release(), distro, arch: process.arch, cpus: os.cpus().length,
    memory_bytes: os.totalmem(), uid: process.getuid?.(),
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    tracefs: existsSync('/sys/kernel/tracing/events'),
    capabilities: CAPS.filter((_, i) => (capEff >> BigInt(i)) & 1n),
  };
}
