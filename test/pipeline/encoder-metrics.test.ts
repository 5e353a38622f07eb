// The OTLP encoder's attribute cache is bounded; what it could not cache, and when it starts over, shows in the
// agent's /metrics (the pipeline reports it at each scrape).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { resetAttributeCache } from '../../src/export/proto/attributes.js';
import { encodeTraces } from '../../src/export/proto/encode-otlp.js';
import { createPipeline } from '../../src/pipeline/index.js';
import { span, testConfig, testContext } from '../export/helpers/fixtures.js';

const sample = (text: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
};

it('encoder cache bounds and overflow are in /metrics', async () => {
  resetAttributeCache();
  const ctx = testContext(testConfig({}));
  createPipeline(ctx); // registers its collectors; not started: the encoder is used directly below
  // 700 distinct keys: more than the cache's 512.
  const spans = Array.from({ length: 700 }, (_, i) => ({ ...span(i), attributes: { [`custom.key.${i}`]: 'v' } }));
  encodeTraces(spans);
  let text = (await ctx.metrics.render()).body;
  assert.equal(sample(text, 'telegen_export_encoder_cache_keys'), 512);
  assert.ok(sample(text, 'telegen_export_encoder_cache_bytes') > 0);
  // The span keys past the 512th (the resource's keys took slots first).
  const first = sample(text, 'telegen_export_encoder_cache_uncached_total');
  assert.ok(first >= 700 - 512 && first <= 700, `uncached ${first}`);
  encodeTraces(spans);
  text = (await ctx.metrics.render()).body;
  assert.equal(sample(text, 'telegen_export_encoder_cache_uncached_total'), 2 * first, 'the same keys again; only the growth is added');
  assert.equal(sample(text, 'telegen_export_encoder_cache_resets_total'), 0);
});
