// Container id from /proc/<pid>/cgroup. Covers the path forms of docker, containerd (incl. k8s cri-containerd),
// CRI-O and podman/libpod, under cgroup v1 (`N:controller:/path`) and v2 (`0::/path`), with cgroupfs and
// systemd drivers, e.g.
//   /docker/<id>                                  (docker, cgroupfs)
//   /system.slice/docker-<id>.scope               (docker, systemd)
//   /kubepods/burstable/pod<uid>/<id>             (k8s, cgroupfs)
//   /kubepods.slice/.../cri-containerd-<id>.scope (containerd, systemd)
//   /kubepods.slice/.../crio-<id>.scope           (CRI-O), crio-conmon-<id>.scope is CRI-O's monitor, not a container
//   /machine.slice/libpod-<id>.scope, /user.slice/.../libpod-<id>.scope/container (podman)

const ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$/;

/** The container id of the first cgroup line that names one, or '' (host process or unknown form). */
export function containerIdFromCgroup(text: string): string {
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const segments = line.slice(second + 1).split('/');
    // Walk from the leaf up: podman nests `/container` (and systemd `init.scope`) below the container's scope.
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      if (seg.includes('conmon')) break;
      const m = ID.exec(seg);
      if (m) return m[1]!;
    }
  }
  return '';
}
