// A node:test reporter that prints one closing line, "tests: N passed, N failed, N skipped", for CI to read.
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0;
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    if (ev.data.details?.type === 'suite') continue; // count tests, not the describe() blocks around them
    if (ev.type === 'test:fail') failed++;
    else if (ev.data.skip !== undefined || ev.data.todo !== undefined) skipped++;
    else passed++;
  }
  yield `\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
