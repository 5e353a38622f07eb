// Which language runtime a process runs: the executable's name first (cheap), then the shared libraries it has
// mapped (embedded interpreters, e.g. libjvm.so under a launcher), then Go build info in the executable.
import { basename } from 'node:path';
import type { RuntimeName } from './catalog.js';
import { readGoBuildInfo } from './go-buildinfo.js';
import { readText } from './proc-read.js';

const BY_EXE: Array<[RegExp, RuntimeName]> = [
  [/^java$/, 'java'],
  [/^python(\d+(\.\d+)?)?$|^pypy3?$|^uwsgi$|^gunicorn$/, 'python'],
  [/^node(js)?$|^bun$/, 'nodejs'],
  [/^dotnet$/, 'dotnet'],
  [/^ruby(\d+(\.\d+)?)?$|^puma$|^unicorn$/, 'ruby'],
  [/^php(\d+(\.\d+)?)?(-fpm(\d+(\.\d+)?)?|-cgi)?$|^frankenphp$/, 'php'],
];

const BY_LIB: Array<[RegExp, RuntimeName]> = [
  [/\/libjvm\.so$/, 'java'],
  [/\/libcoreclr\.so$/, 'dotnet'],
  [/\/libpython\d[\d.]*\.so/, 'python'],
  [/\/libnode\.so/, 'nodejs'],
  [/\/libruby[\d.-]*\.so/, 'ruby'],
  [/\/libphp\d*\.so$|\/mod_php\d*\.so$/, 'php'],
];

export function runtimeFromExe(exeName: string): RuntimeName | undefined {
  for (const [re, rt] of BY_EXE) if (re.test(exeName)) return rt;
  return undefined;
}

export function runtimeFromMaps(maps: string): RuntimeName | undefined {
  for (const line of maps.split('\n')) {
    const path = line.slice(line.indexOf('/'));
    if (!path.endsWith('.so') && !path.includes('.so.')) continue;
    for (const [re, rt] of BY_LIB) if (re.test(path)) return rt;
  }
  return undefined;
}

/** The runtime implied by the shared libraries `pid` has mapped, if any. */
export async function runtimeFromProcMaps(procRoot: string, pid: number): Promise<RuntimeName | undefined> {
  const maps = await readText(`${procRoot}/${pid}/maps`, 1024 * 1024);
  return maps ? runtimeFromMaps(maps) : undefined;
}

/** Detect a runtime for `pid` under `procRoot`; exePath is the resolved executable (for its basename). */
export async function detectRuntime(procRoot: string, pid: number, exePath: string): Promise<{ runtime: RuntimeName; version: string }> {
  const byName = runtimeFromExe(basename(exePath));
  if (byName) return { runtime: byName, version: byName === 'nodejs' && pid === process.pid ? process.versions.node : '' };
  const byLib = await runtimeFromProcMaps(procRoot, pid);
  if (byLib) return { runtime: byLib, version: '' };
  // Through /proc/<pid>/exe so it works for binaries in other mount namespaces (containers).
  if (exePath) {
    const go = await readGoBuildInfo(`${procRoot}/${pid}/exe`);
    if (go) return { runtime: 'go', version: go.version };
  }
  return { runtime: 'unknown', version: '' };
}
