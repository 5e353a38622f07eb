// A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki { dir: string; caFile: string; ca: Buffer; serverKey: Buffer; serverCert: Buffer; clientKeyFile: string; clientCertFile: string }

export function makeTestPki(dir: string): TestPki {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=telegen test CA');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'telegen client'}`);
    ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2',
      ...(who === 'server' ? ['-extfile', 'server.ext'] : []));
  }
  return {
    dir, caFile: f('ca.crt'), ca: readFileSync(f('ca.crt')), serverKey: readFileSync(f('server.key')), serverCert: readFileSync(f('server.crt')),
    clientKeyFile: f('client.key'), clientCertFile: f('client.crt'),
  };
}
