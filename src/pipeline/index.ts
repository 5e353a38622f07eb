// Export pipeline entry point (wired as subsystem `export` in src/agent/wiring.ts).
import type { SubsystemContext } from '../agent/subsystem.js';
import { TelegenPipeline } from './pipeline.js';

export { TelegenPipeline };

export function createPipeline(ctx: Omit<SubsystemContext, 'sink'>): TelegenPipeline {
  return new TelegenPipeline(ctx);
}
