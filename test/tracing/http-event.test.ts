// src/tracing/http-event.ts mirrors bpf/http.h: every offset the decoder reads is checked against the BTF of
// the compiled object (what the kernel side really lays out), and the decoder against a hand-built record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { bpfObjectPath } from '../../src/ebpf/paths.js';
import { decodeHttpEvent, formatAddress, HTTP_EVENT_SIZE, HttpEventOffsets } from '../../src/tracing/http-event.js';

const obj = bpfObjectPath('http');
const skipBtf = existsSync(obj) ? false : 'bpf/.output/http.bpf.o not built (make -C bpf)';

function btfMembers(struct: string): { size: number; offsets: Record<string, number> } {
  const dump = execFileSync('bpftool', ['btf', 'dump', 'file', obj]).toString().split('\n');
  const i = dump.findIndex((l) => l.includes(`STRUCT '${struct}' size=`));
  assert.ok(i >= 0, `struct ${struct} in BTF`);
  const size = Number(/size=(\d+)/.exec(dump[i]!)![1]);
  const offsets: Record<string, number> = {};
  for (let j = i + 1; j < dump.length && dump[j]!.startsWith('\t'); j++) {
    const m = /'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(dump[j]!);
    if (m) offsets[m[1]!] = Number(m[2]) / 8;
  }
  return { size, offsets };
}

describe('http_event layout', () => {
  it('matches the BTF of the compiled object', { skip: skipBtf }, () => {
    const ev = btfMembers('http_event');
    const hdr = btfMembers('telegen_event_header');
    assert.equal(ev.size, HTTP_EVENT_SIZE);
    assert.equal(ev.offsets.data, HttpEventOffsets.data);
    for (const [field, off] of Object.entries(HttpEventOffsets)) {
      if (field in hdr.offsets) assert.equal(hdr.offsets[field], off, `header.${field}`);
      else assert.equal(ev.offsets[field], off, `http_event.${field}`);
    }
  });

  it('decodes a record and refuses truncated ones', () => {
    const payload = Buffer.from('GET / HTTP/1.1\r\n');
    const buf = Buffer.alloc(HTTP_EVENT_SIZE + payload.length);
    const O = HttpEventOffsets;
    buf.writeUInt32LE(3, O.kind);
    buf.writeUInt32LE(buf.length, O.size);
    buf.writeBigUInt64LE(2000n, O.timestamp_ns);
    buf.writeBigUInt64LE(77n, O.conn_id);
    buf.writeBigUInt64LE(1000n, O.ts_enter);
    buf.writeBigUInt64LE(4096n, O.position);
    buf.writeUInt32LE(42, O.pid);
    buf.writeUInt32LE(43, O.tid);
    buf.writeUInt32LE(7, O.fd);
    buf.writeUInt32LE(100000, O.length);
    buf.writeUInt32LE(payload.length, O.captured);
    buf[O.type] = 1;
    buf[O.direction] = 1;
    buf[O.role] = 2;
    buf[O.family] = 10;
    buf.writeUInt16LE(51000, O.lport);
    buf.writeUInt16LE(80, O.rport);
    Buffer.from('00000000000000000000ffff7f000001', 'hex').copy(buf, O.laddr);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(buf, O.raddr);
    payload.copy(buf, O.data);
    const e = decodeHttpEvent(buf, 0)!;
    assert.equal(e.connId, 77);
    assert.equal(e.tsEnter, 1000);
    assert.equal(e.tsExit, 2000);
    assert.equal(e.position, 4096);
    assert.equal(e.length, 100000);
    assert.equal(Buffer.from(e.buf.subarray(e.dataOffset, e.dataOffset + e.captured)).toString(), 'GET / HTTP/1.1\r\n');
    assert.equal(e.laddr, '127.0.0.1');
    assert.equal(e.raddr, '2001:db8::1');
    assert.equal(e.lport, 51000);
    // A record claiming more captured bytes than it holds is refused, not read past its end.
    buf.writeUInt32LE(payload.length + 1, O.captured);
    assert.equal(decodeHttpEvent(buf, 0), undefined);
    assert.equal(decodeHttpEvent(buf.subarray(0, 50), 0), undefined);
  });

  it('formats IPv6 addresses (RFC 5952 zero compression)', () => {
    assert.equal(formatAddress(Buffer.from('00000000000000000000000000000001', 'hex'), 0, 10), '::1');
    assert.equal(formatAddress(Buffer.from('fe800000000000000000000000000001', 'hex'), 0, 10), 'fe80::1');
    assert.equal(formatAddress(Buffer.from('7f000001', 'hex'), 0, 2), '127.0.0.1');
  });
});
