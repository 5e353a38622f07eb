// Debian's nginx for the benchmarks: one worker, no daemon, everything under `dir`, a static ~300-byte page on
// 127.0.0.1:`port`, keep-alive connections that are never closed by nginx. Stop it by killing the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function startNginx(dir: string, port: number, title = 'bench'): ChildProcess {
  mkdirSync(join(dir, 'html'), { recursive: true });
  writeFileSync(join(dir, 'html', 'index.html'), `<h1>${title}</h1>\n`.repeat(20));
  writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/t; proxy_temp_path ${dir}/t; fastcgi_temp_path ${dir}/t; uwsgi_temp_path ${dir}/t; scgi_temp_path ${dir}/t;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; root ${dir}/html; } }`);
  return spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
}
