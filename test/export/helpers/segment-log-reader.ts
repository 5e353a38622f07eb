// A read-only look into the persistent queue of a running (or killed) agent: what is on disk after the ack
// cursor, decoded with OpenTelemetry's decoder. Tests use it to prove that data reached the disk — the only place
// it can be during an outage — without opening the log the way the agent does (recovery truncates a torn tail,
// which must never happen under a writer that is still appending).
// The format is src/pipeline/segment-log.ts': records of [magic u32, length u32, items u32, points u32, crc u32]
// followed by the payload, in <dir>/<12-digit segment>.seg, and an `ack` file "<seg> <offset> <crc>\n".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import { decodeRequest, type Signal } from './otlp-decoder.js';

const MAGIC = 0x31514754;
const MAGIC_GZIP = 0x315a4754;
const HEADER = 20;

export interface PersistedRecord {
  seg: number;
  offset: number;
  items: number;
  gzip: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** The ack cursor, or the start when there is none (or it is torn: the agent reads it the same way). */
function readCursor(dir: string): { seg: number; offset: number } {
  try {
    const m = /^(\d+) (\d+) ([0-9a-f]{8})\n/.exec(readFileSync(join(dir, 'ack'), 'latin1'));
    if (m && crc32(`${m[1]} ${m[2]}`).toString(16).padStart(8, '0') === m[3]) return { seg: Number(m[1]), offset: Number(m[2]) };
  } catch {
    // No cursor yet.
  }
  return { seg: 0, offset: 0 };
}

/**
 * Every complete, checksummed record not yet acknowledged, oldest first. A record still being written (short
 * or failing its CRC) ends the scan of its segment: it is not persisted yet.
 */
export function persistedRecords(dir: string, signal: Signal): PersistedRecord[] {
  if (!existsSync(dir)) return [];
  const cursor = readCursor(dir);
  const segs = readdirSync(dir).map((n) => /^(\d{12})\.seg$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  const out: PersistedRecord[] = [];
  for (const seg of segs) {
    if (seg < cursor.seg) continue;
    let data: Buffer;
    try {
      data = readFileSync(join(dir, `${String(seg).padStart(12, '0')}.seg`));
    } catch {
      continue; // acknowledged and deleted meanwhile
    }
    let pos = seg === cursor.seg ? cursor.offset : 0;
    while (pos + HEADER <= data.length) {
      const magic = data.readUInt32LE(pos);
      const len = data.readUInt32LE(pos + 4);
      if ((magic !== MAGIC && magic !== MAGIC_GZIP) || pos + HEADER + len > data.length) break;
      const payload = data.subarray(pos + HEADER, pos + HEADER + len);
      if (crc32(payload, crc32(data.subarray(pos + 8, pos + 16))) !== data.readUInt32LE(pos + 16)) break;
      const gzip = magic === MAGIC_GZIP;
      out.push({ seg, offset: pos, items: data.readUInt32LE(pos + 8), gzip, body: decodeRequest(signal, gzip ? gunzipSync(payload) : payload) });
      pos += HEADER + len;
    }
  }
  return out;
}
