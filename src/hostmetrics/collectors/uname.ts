// uname: node_uname_info with the uname(2) fields (Node's os module reads the same syscall).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { family, type Collector } from '../family.js';

export function unameCollector(): Collector {
  return {
    name: 'uname',
    async collect(env) {
      const domainname = (await readFile(`${env.procRoot}/sys/kernel/domainname`, 'utf8').catch(() => '(none)')).trim();
      return [family('node_uname_info', 'Labeled system information as provided by the uname system call.', 'gauge', [{
        labels: { domainname, machine: os.machine(), nodename: os.hostname(), release: os.release(), sysname: os.type(), version: os.version() },
        value: 1,
      }])];
    },
  };
}
