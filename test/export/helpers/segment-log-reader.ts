// A read-only look into the persistent queue of a running (or killed) agent: what is on disk after the ack
// cursor, decoded with OpenTelemetry's decoder. Tests use it to prove that data reached the disk — the only place
// it can be during an outage — without opening the log the way the agent does (recovery truncates a torn tail,
// which must never happen under a writer that is still appending).
// The format is src/pipeline/segment-log.ts': its read-side functions are used here, with whole files read at once.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseRecordHeader, readAckCursor, recordChecksumOk, RECORD_HEADER, segmentNumbers, segmentPath } from '../../../src/pipeline/segment-log.js';
import { decodeRequest, type Signal } from './otlp-decoder.js';

export interface PersistedRecord {
  seg: number;
  offset: number;
  items: number;
  gzip: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * Every complete, checksummed record not yet acknowledged, oldest first. A record still being written (short
 * or failing its CRC) ends the scan of its segment: it is not persisted yet.
 */
export function persistedRecords(dir: string, signal: Signal): PersistedRecord[] {
  if (!existsSync(dir)) return [];
  const cursor = readAckCursor(dir);
  const out: PersistedRecord[] = [];
  for (const seg of segmentNumbers(dir)) {
    if (seg < cursor.seg) continue;
    let data: Buffer;
    try {
      data = readFileSync(segmentPath(dir, seg));
    } catch {
      continue; // acknowledged and deleted meanwhile
    }
    let pos = seg === cursor.seg ? cursor.offset : 0;
    while (pos + RECORD_HEADER <= data.length) {
      const header = data.subarray(pos, pos + RECORD_HEADER);
      const r = parseRecordHeader(header, data.length - pos);
      if (!r) break;
      const payload = data.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + r.len);
      if (!recordChecksumOk(header, payload)) break;
      out.push({ seg, offset: pos, items: r.count, gzip: r.gzip, body: decodeRequest(signal, r.gzip ? gunzipSync(payload) : payload) });
      pos += RECORD_HEADER + r.len;
    }
  }
  return out;
}
