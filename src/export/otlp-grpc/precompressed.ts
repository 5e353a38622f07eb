// Sending messages that are gzip-compressed already (by the pipeline, at zlib level 1, before they are queued)
// through grpc-js. grpc-js compresses every message itself, at zlib's default level 6, with no setting for the
// level and no public way to pass bytes compressed beforehand. At level 6 the compression costs ~4x level 1's CPU
// for requests ~5% smaller (bench:export), and on a node agent CPU is the scarce side.
//
// So grpc-js' compression filter gets one narrow addition: a message whose Buffer was handed to markGzipped()
// is framed as compressed (flag 1, the call carrying grpc-encoding: gzip as grpc-js sets it) without compressing
// it again. Every other message takes grpc-js' own path unchanged. When the call does not use gzip (the server
// refused it, which grpc-js handles by sending uncompressed) or grpc-js' internals are not what this expects, the
// bytes are decompressed and go through grpc-js' own path: never double-compressed, never mislabelled. Should a
// grpc-js release stop routing messages through this filter method, a marked message would go out as it is
// (gzip bytes as protobuf, which no receiver decodes: gzip's first byte is an invalid protobuf wire type); the
// transport notices that the message was never handled here (handledHere), stops pre-compressing and retries the
// batch plain. grpc-js is pinned to an exact version in package.json for the same reason.
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

interface WriteObject {
  message: Buffer;
  flags?: number;
}

interface CompressionFilterLike {
  currentCompressionAlgorithm?: unknown;
  maxSendMessageLength?: unknown;
  sendMessage(message: Promise<WriteObject> | WriteObject): Promise<WriteObject>;
}

/** Buffers marked as gzip data, and whether the filter has taken them through the path below yet. */
const marks = new WeakMap<Buffer, 'marked' | 'handled'>();
let installed: boolean | undefined;

/** A gRPC length-prefixed message flagged compressed: flag 1, u32 big-endian length, the bytes. */
function frameCompressed(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 5);
  out.writeUInt8(1, 0);
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, 5);
  return out;
}

/**
 * Add the pre-compressed path to grpc-js' compression filter (once per process). False when grpc-js' internals
 * are not the expected ones: callers then hand grpc-js plain bytes (it compresses them at its own level).
 */
export function installPrecompressedSend(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  let proto: CompressionFilterLike | undefined;
  try {
    const mod = createRequire(import.meta.url)('@grpc/grpc-js/build/src/compression-filter.js') as
      { CompressionFilter?: { prototype: CompressionFilterLike } };
    proto = mod.CompressionFilter?.prototype;
  } catch {
    return false;
  }
  if (!proto || typeof proto.sendMessage !== 'function') return false;
  const original = proto.sendMessage;
  proto.sendMessage = async function (this: CompressionFilterLike, message) {
    const m = await message;
    if (!marks.has(m.message)) return original.call(this, m);
    marks.set(m.message, 'handled');
    const max = this.maxSendMessageLength;
    if (this.currentCompressionAlgorithm === 'gzip' && typeof max === 'number') {
      if (max !== -1 && m.message.length > max) {
        // As grpc-js reports an oversized message (RESOURCE_EXHAUSTED = 8).
        throw { code: 8, details: `Attempted to send message with a size larger than ${max}` };
      }
      return { message: frameCompressed(m.message), flags: m.flags };
    }
    return original.call(this, { message: gunzipSync(m.message), flags: m.flags });
  };
  installed = true;
  return true;
}

/** `body` is gzip data: sent as a compressed message without compressing it again. */
export function markGzipped(body: Buffer): Buffer {
  marks.set(body, 'marked');
  return body;
}

/** Did the compression filter take `body` (marked) through the path above? */
export function handledHere(body: Buffer): boolean {
  return marks.get(body) === 'handled';
}
