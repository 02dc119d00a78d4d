// Runs the unit tests, then the integration tests (real CRIU, root). In CI (CI=true) an
// integration test that cannot find CRIU fails instead of skipping.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = ['unit', 'integration'];
let failed = false;
for (const suite of suites) {
  const dir = join(root, 'dist', 'test', suite);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f));
  if (!files.length) continue;
  console.log(`\n# ${suite} tests (${files.length} files)`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
