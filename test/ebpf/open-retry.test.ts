import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openRetrying } from '../../src/ebpf/ebpf-subsystem.js';
import type { NativeAddon, NativeObject } from '../../src/ebpf/native.js';

// A signal landing while the verifier runs makes BPF_PROG_LOAD fail with EAGAIN (seen under `node --cpu-prof`);
// that cannot be provoked on demand, so the addon's open is replaced by one that fails the way it does.
const nativeError = (errno: number) => Object.assign(new Error('load: Resource temporarily unavailable'), { step: 'load', errno, log: '' });

function addonFailing(times: number, errno: number) {
  let calls = 0;
  const obj = { id: 1 } as unknown as NativeObject;
  const addon = { open: () => { calls++; if (calls <= times) throw nativeError(errno); return obj; } } as unknown as NativeAddon;
  return { addon, obj, calls: () => calls };
}

test('an interrupted load (EAGAIN) is tried again, up to three attempts', () => {
  const twice = addonFailing(2, -11);
  assert.equal(openRetrying(twice.addon, 'x.bpf.o', {}), twice.obj);
  assert.equal(twice.calls(), 3);
  const always = addonFailing(10, 11);
  assert.throws(() => openRetrying(always.addon, 'x.bpf.o', {}), /temporarily unavailable/);
  assert.equal(always.calls(), 3);
});

test('any other failure (a verifier refusal) is not retried', () => {
  const refused = addonFailing(1, -13);
  assert.throws(() => openRetrying(refused.addon, 'x.bpf.o', {}));
  assert.equal(refused.calls(), 1);
});
