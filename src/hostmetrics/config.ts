import { Bool, Duration, Section, Str, StrList } from '../config/types.js';

/** `agent.host_metrics`: node_exporter-compatible host metrics. Defaults are node_exporter 1.5's (upstream). */
export const hostMetricsSchema = Section({
  enabled: Bool(true, 'Collect host metrics (always off in mode: collector).'),
  interval: Duration('15s', 'How often host metrics are sent through the OTLP pipeline.'),
  prometheus: Section({
    listen: Str('', 'Serve node_* metrics for Prometheus here (e.g. ":9100" or "127.0.0.1:9100"), at /metrics. Empty: off.'),
  }, 'node_exporter-compatible endpoint.'),
  collectors: Section({
    enabled: StrList([], 'Collectors to run; empty means all: cpu, cpufreq, meminfo, diskstats, filesystem, netdev, netstat, loadavg, stat, vmstat, pressure, uname, time.'),
    disabled: StrList([], 'Collectors to turn off.'),
  }, 'Which collectors run.'),
  filesystem: Section({
    mount_points_exclude: Str('^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)', 'Regexp of mount points to skip (node_exporter default).'),
    mount_points_include: Str('', 'Regexp mount points must match (empty: all).'),
    fs_types_exclude: Str('^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$', 'Regexp of filesystem types to skip (node_exporter default).'),
    statfs_timeout: Duration('5s', 'A mount whose statfs takes longer is reported with node_filesystem_device_error 1 and not asked again until the call returns.'),
  }, 'Filesystem collector.'),
  netdev: Section({
    device_exclude: Str('', 'Regexp of network devices to skip (e.g. "^(veth|cali|br-)").'),
    device_include: Str('', 'Regexp network devices must match (empty: all).'),
  }, 'Network device collector.'),
  diskstats: Section({
    device_exclude: Str('^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$', 'Regexp of block devices to skip (node_exporter default).'),
    device_include: Str('', 'Regexp block devices must match (empty: all).'),
  }, 'Disk statistics collector.'),
  netstat: Section({
    fields: Str('^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$', 'Regexp of /proc/net/{netstat,snmp,snmp6} fields to expose (node_exporter default).'),
  }, 'Network statistics collector.'),
  vmstat: Section({
    fields: Str('^(oom_kill|pgpg|pswp|pg.*fault).*', 'Regexp of /proc/vmstat fields to expose (node_exporter default).'),
  }, 'Virtual memory statistics collector.'),
}, 'Host metrics.');
