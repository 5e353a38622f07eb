// The typed face of the libbpf addon (native/src). Loaded lazily: the agent runs (with eBPF `failed`) when
// it was not built.
import { createRequire } from 'node:module';
import { addonPath } from './paths.js';

export type NativeObject = { readonly __brand: 'bpf_object' };
export type NativeLink = { readonly __brand: 'bpf_link' };
export type NativeRingbuf = { readonly __brand: 'ring_buffer' };
/** A framed batch of records, or (null, n): the marker answering n ringbufFlush calls. */
export type RingbufCallback = (batch: Buffer | null, flushes?: number) => void;

export interface NativeProgram { name: string; section: string; type: string; fd: number; id: number }
export interface NativeMap {
  name: string; type: string; fd: number; id: number; keySize: number; valueSize: number; maxEntries: number;
  /** .rodata/.bss/.data maps libbpf creates for globals. */
  internal: boolean;
}

/** Errors thrown by the addon carry the failing step, the errno and libbpf's/the verifier's log. */
export interface NativeError extends Error { step: string; errno: number; log: string }

export interface OpenOptions {
  rodata?: Record<string, number | bigint | boolean>;
  /** Like rodata, but names the object does not declare are ignored (the core's tg_* knobs). */
  rodataOptional?: Record<string, number | bigint | boolean>;
  maxEntries?: Record<string, number>;
  /** Map name → fd of the core's map to reuse (skipped when the object has no such map). */
  reuse?: Record<string, number>;
}

export interface NativeAddon {
  libbpfVersion(): [number, number];
  numPossibleCpus(): number;
  open(path: string, opts: OpenOptions): NativeObject;
  close(obj: NativeObject): void;
  programs(obj: NativeObject): NativeProgram[];
  maps(obj: NativeObject): NativeMap[];
  attach(obj: NativeObject, program: string): NativeLink;
  attachPerfEvent(obj: NativeObject, program: string, opts: { cpu: number; pid: number; frequency: number }): NativeLink;
  detach(link: NativeLink): void;
  /** Destroys the links on a libuv worker thread (each tracepoint's close waits for a kernel grace period). */
  detachAsync(links: NativeLink[]): Promise<void>;
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapEntries(fd: number, keySize: number, valueSize: number, limit: number): [Buffer, Buffer, number];
  mapCount(fd: number, keySize: number, limit: number): number;
  /**
   * Consumes the ring buffer map on a native thread; `cb` gets framed batches at most `latencyMs` after a record
   * was submitted (BPF forces earlier wakeups, bpf/common.h). `wakeupMapFd`: the tg_events_wakeup map, reset at
   * each delivery so BPF does not force a second wakeup in the same period.
   */
  ringbufOpen(fd: number, latencyMs: number, cb: RingbufCallback, wakeupMapFd?: number): NativeRingbuf;
  ringbufClose(rb: NativeRingbuf): void;
  /**
   * Deliver everything committed to the ring now; then `cb(null, n)`, after those batches, answers this call and
   * any made meanwhile (n of them). Nothing is answered once the ring is closed.
   */
  ringbufFlush(rb: NativeRingbuf): void;
  /** glibc malloc_trim(0): returns free heap pages to the kernel (each object load already does it). */
  mallocTrim(): boolean;
  /** execv(argv[0], argv): restarts this process (same pid) as argv; returns only by throwing. */
  execSelf(argv: string[]): never;
}

let cached: NativeAddon | undefined;
let loadError: string | undefined;

/** The addon, or throws an Error saying why it cannot be loaded (not built, missing libbpf…). */
export function nativeAddon(): NativeAddon {
  if (cached) return cached;
  if (loadError) throw new Error(loadError);
  try {
    cached = createRequire(import.meta.url)(addonPath) as NativeAddon;
    return cached;
  } catch (e) {
    loadError = `libbpf addon not available (${(e as Error).message.split('\n')[0]}); run scripts/build-native.sh`;
    throw new Error(loadError, { cause: e });
  }
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as Partial<NativeError>).step === 'string';
}
