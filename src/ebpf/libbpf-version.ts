// The libbpf version the agent runs against, for `telegen version`: asked of the addon itself (the library it
// is linked with); when the addon is not built, read from the installed package instead.
import { execFileSync } from 'node:child_process';
import { nativeAddon } from './native.js';

export function libbpfVersion(): string {
  try {
    const [major, minor] = nativeAddon().libbpfVersion();
    const linked = `${major}.${minor}`;
    // The addon knows major.minor; the package adds the patch level when it is the same library.
    const pkg = packagedVersion();
    return pkg.startsWith(`${linked}.`) ? pkg : linked;
  } catch {
    return packagedVersion();
  }
}

function packagedVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libbpf1'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const m = /(\d+\.\d+\.\d+)/.exec(out);
    return m ? m[1]! : 'unknown';
  } catch {
    return 'not installed';
  }
}
