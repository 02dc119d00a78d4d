// The lint that CI runs fails on what it exists to catch: a layering violation, an import cycle,
// a dead export, process output outside src/cli. Each is planted in a small project of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/trees.js';

function project(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'cryo-lint-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  symlinkSync(join(repoRoot, 'node_modules'), join(d, 'node_modules'));
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'planted', version: '1.0.0', type: 'module', main: 'src/index.ts' }));
  writeFileSync(join(d, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true }, include: ['src'] }));
  writeFileSync(join(d, 'knip.json'), JSON.stringify({ project: ['src/**/*.ts'] }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, name)), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const depcruise = (cwd: string) => spawnSync(process.execPath, [join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', join(repoRoot, '.dependency-cruiser.cjs')], { cwd, encoding: 'utf8' });
const knip = (cwd: string) => spawnSync(process.execPath, [join(repoRoot, 'node_modules/knip/bin/knip.js')], { cwd, encoding: 'utf8' });
const layers = (cwd: string) => spawnSync(process.execPath, [join(repoRoot, 'scripts/check-layers.mjs'), cwd], { encoding: 'utf8' });

const CLEAN = {
  'src/index.ts': "import { a } from './images/a.js';\nimport { b } from './kernel/b.js';\nexport const both = a + b;\n",
  'src/images/a.ts': 'export const a = 1;\n',
  'src/kernel/b.ts': 'export const b = 2;\n',
};

test('a clean tree passes every check', (t) => {
  const d = project(t, CLEAN);
  const r = depcruise(d);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(knip(d).status, 0);
  assert.equal(layers(d).status, 0);
});

test('images importing kernel is a layering violation', (t) => {
  const d = project(t, { ...CLEAN, 'src/images/a.ts': "import { b } from '../kernel/b.js';\nexport const a = b;\n" });
  const r = depcruise(d);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /images-not-to-kernel/);
});

test('a lower layer reaching up (checkpoint importing pipeline) is refused', (t) => {
  const d = project(t, { ...CLEAN, 'src/checkpoint/c.ts': "import { p } from '../pipeline/p.js';\nexport const c = p;\n", 'src/pipeline/p.ts': 'export const p = 3;\n', 'src/index.ts': `${CLEAN['src/index.ts']}export { c } from './checkpoint/c.js';\n` });
  const r = depcruise(d);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /upper-goes-down/);
});

test('an import cycle is refused', (t) => {
  const d = project(t, { ...CLEAN, 'src/images/a.ts': "import { c } from './c.js';\nexport const a = 1;\nexport const d = c;\n", 'src/images/c.ts': "import { a } from './a.js';\nexport const c = a;\n" });
  const r = depcruise(d);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /no-circular/);
});

test('a dead export is refused', (t) => {
  const d = project(t, { ...CLEAN, 'src/kernel/b.ts': 'export const b = 2;\nexport const unused = 3;\n' });
  const r = knip(d);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /unused/);
});

test('process output outside src/cli is refused', (t) => {
  const d = project(t, { ...CLEAN, 'src/kernel/b.ts': "export const b = 2;\nprocess.stdout.write('x');\n" });
  const r = layers(d);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /src\/kernel\/b\.ts/);
});
