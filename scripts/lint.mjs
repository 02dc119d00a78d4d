// npm run lint: the layer rules (dependency-cruiser), dead code (knip), and process use outside
// src/cli (check-layers). All three run even when one fails, so one run lists every violation.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const checks = ['lint:deps', 'lint:dead', 'lint:layers'];
const failed = checks.filter((name) => {
  console.log(`\n# ${name}`);
  const r = spawnSync('npm', ['run', '--silent', name], { cwd: root, stdio: 'inherit' });
  return r.status !== 0;
});
if (failed.length) {
  console.error(`\nlint: failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
