import { Bool, Duration, Section, Str, StrList } from '../config/types.js';

/** `agent.host_metrics`: node_exporter-compatible host metrics. */
export const hostMetricsSchema = Section({
  enabled: Bool(true, 'Collect host metrics.'),
  interval: Duration('15s', 'How often host metrics are sent through the OTLP pipeline.'),
  prometheus: Section({
    listen: Str('', 'Serve node_* metrics for Prometheus here (e.g. ":9100"). Empty: off.'),
  }, 'node_exporter-compatible endpoint.'),
  collectors: Section({
    enabled: StrList([], 'Collectors to run; empty means all: cpu, cpufreq, meminfo, diskstats, filesystem, netdev, netstat, loadavg, stat, vmstat, pressure, uname, time.'),
    disabled: StrList([], 'Collectors to turn off.'),
  }, 'Which collectors run.'),
  filesystem: Section({
    mount_points_exclude: Str('^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)', 'Regexp of mount points to skip (node_exporter default).'),
    fs_types_exclude: Str('^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$', 'Regexp of filesystem types to skip (node_exporter default).'),
    statfs_timeout: Duration('5s', 'A mount whose statfs takes longer is reported as stale and skipped.'),
  }, 'Filesystem collector.'),
  netdev: Section({
    device_exclude: Str('', 'Regexp of network devices to skip (e.g. "^(veth|cali|br-)").'),
  }, 'Network device collector.'),
  diskstats: Section({
    device_exclude: Str('^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$', 'Regexp of block devices to skip (node_exporter default).'),
  }, 'Disk statistics collector.'),
}, 'Host metrics.');
