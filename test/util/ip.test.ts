import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6 } from '../../src/util/ip.js';

const v6 = (text: string) => {
  // Expand with Node's own parser via URL, then back to 16 bytes.
  const groups = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = groups.includes('::') ? groups.split('::') : [groups, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  all.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf;
};

test('IPv4 dotted quad and RFC 5952 IPv6 text, the same as Node/URL normalise them', () => {
  assert.equal(formatIPv4(Buffer.from([127, 0, 0, 1]), 0), '127.0.0.1');
  for (const a of ['::1', '::', 'fe80::1:2', '2001:db8::8:800:200c:417a', '2001:db8:0:1:1:1:1:1', '1:0:0:2::3', 'ff02::1:ff00:0']) {
    const text = formatIPv6(v6(a), 0);
    assert.equal(isIP(text), 6, text);
    assert.equal(text, new URL(`http://[${a}]/`).hostname.slice(1, -1), a);
  }
  assert.equal(formatIPv6(v6('::ffff:10.1.2.3'), 0), '10.1.2.3', 'IPv4-mapped shows as IPv4');
});
