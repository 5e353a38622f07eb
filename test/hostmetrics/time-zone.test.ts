// node_time_zone_offset_seconds{time_zone}: the abbreviation Go prints, from the POSIX rule of the tz file
// (without paging in ICU's zone data), for zones with and without DST and with numeric names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { zoneFromRule } from '../../src/hostmetrics/collectors/time.js';

test('zone abbreviations from POSIX TZ rules, std or dst by the current offset', () => {
  assert.equal(zoneFromRule('UTC0', 0), 'UTC');
  assert.equal(zoneFromRule('CET-1CEST,M3.5.0,M10.5.0/3', 3600), 'CET');
  assert.equal(zoneFromRule('CET-1CEST,M3.5.0,M10.5.0/3', 7200), 'CEST');
  assert.equal(zoneFromRule('EST5EDT,M3.2.0,M11.1.0', -18000), 'EST');
  assert.equal(zoneFromRule('EST5EDT,M3.2.0,M11.1.0', -14400), 'EDT');
  assert.equal(zoneFromRule('<+03>-3', 10800), '+03');
  assert.equal(zoneFromRule('IST-5:30', 19800), 'IST');
  assert.equal(zoneFromRule('', 0), undefined);
  assert.equal(zoneFromRule('garbage', 0), undefined);
});

test('the time collector names the zone of TZ as Go does (from the tz file), in real processes', () => {
  const script = "import('./src/hostmetrics/collectors/time.ts').then(async (m) => { const f = await m.timeCollector().collect({ sysRoot: '/sys', procRoot: '/proc' }); console.log(f[1].samples[0].labels.time_zone); })";
  const want: Record<string, string> = { UTC: 'UTC', 'Asia/Kolkata': 'IST', 'Asia/Riyadh': '+03', 'Asia/Tokyo': 'JST' };
  for (const [tz, name] of Object.entries(want)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' });
    assert.equal(r.stdout.trim(), name, `${tz}: ${r.stderr}`);
  }
});
