// Where the build puts the kernel side and the addon, relative to the repository (works from src/ under tsx
// and from dist/ once compiled: both are two levels below the root).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `bpfObjectPath('tcp')` → <repo>/bpf/.output/tcp.bpf.o (fixtures of bpf/fixtures/ land there too). */
export function bpfObjectPath(name: string): string {
  return join(repoRoot, 'bpf', '.output', `${name}.bpf.o`);
}

export const addonPath = join(repoRoot, 'native', 'build', 'Release', 'telegen_bpf.node');
