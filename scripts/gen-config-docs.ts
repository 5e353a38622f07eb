// npm run docs:config — rewrites docs/configuration.md from the schema.
import { writeFileSync } from 'node:fs';
import { configReference } from '../src/config/docs.js';

writeFileSync('docs/configuration.md', configReference());
console.log('docs/configuration.md written');
