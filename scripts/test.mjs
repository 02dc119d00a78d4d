// Runs lint, then the unit tests, the integration tests (real CRIU, root) and the package test
// (npm pack installed into an empty project). In CI (CI=true) a test that cannot find CRIU fails
// instead of skipping. A lint failure (a layering violation, a cycle, a dead export) fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let failed = false;

const lint = spawnSync(process.execPath, [join(root, 'scripts', 'lint.mjs')], { cwd: root, stdio: 'inherit' });
if (lint.status !== 0) failed = true;

for (const suite of ['unit', 'integration', 'package']) {
  const dir = join(root, 'dist', 'test', suite);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f));
  if (!files.length) continue;
  console.log(`\n# ${suite} tests (${files.length} files)`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
