export * from './attributes.js';
export * from './span.js';
export * from './metric.js';
export * from './log.js';
export * from './profile.js';
export * from './signals.js';
