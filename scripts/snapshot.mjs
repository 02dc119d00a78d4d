// The start-up snapshot: cryo's CLI bundled into one CommonJS file (dist/snapshot/cryo.cjs), and a
// V8 snapshot of it (dist/snapshot/cryo.blob) for the Node that builds it, with a stamp
// (dist/snapshot/node) that carries that Node binary's mtime: bin/cryo starts the snapshot only
// when the node on PATH has the same one.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import esbuild from 'esbuild';

// built-ins Node 20 does not vouch for inside a snapshot: loaded at their first use instead
const LAZY_BUILTINS = ['module', 'child_process', 'worker_threads', 'tls', 'http', 'https', 'http2', 'dgram', 'readline', 'inspector', 'cluster', 'repl'];

/** A module whose exports load `expr` at their first use (names known now, values at run time). */
function lazyModule(names, expr) {
  const props = names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`);
  return `let m;\nconst load = () => (m ??= ${expr});\n${props.join('\n')}\n`;
}

/** koffi (a native addon) and the unvouched built-ins stay out of the snapshot. */
function lazyPlugin(root) {
  const req = createRequire(join(root, 'package.json'));
  const builtins = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
  return {
    name: 'cryo-lazy',
    setup(b) {
      b.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'cryo-lazy' }));
      // the lazy module's own require() of the built-in is the real one
      b.onResolve({ filter: builtins }, (a) => a.namespace.startsWith('cryo-') ? { path: a.path, external: true } : { path: a.path.replace(/^node:/, ''), namespace: 'cryo-lazy' });
      // a snapshot has no loader for import(): a built-in imported that way becomes a bundled require
      b.onResolve({ filter: /^node:/ }, (a) => a.kind === 'dynamic-import' && a.namespace !== 'cryo-lazy' ? { path: a.path, namespace: 'cryo-builtin' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'cryo-builtin' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});\n`, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'cryo-lazy' }, (a) => {
        const names = Object.keys(req(a.path === 'koffi' ? 'koffi' : `node:${a.path}`)).filter((n) => n !== 'default' && n !== '__esModule');
        const expr = a.path === 'koffi' ? "globalThis.__cryoRequire('koffi')" : `require('node:${a.path}')`;
        return { contents: lazyModule(names, expr), loader: 'js' };
      });
    },
  };
}

/** Bundles dist/src/cli/snapshot.js and snapshots it: { state, blob } or { state: 'unavailable', reason }. */
export async function buildSnapshot(root) {
  const dir = join(root, 'dist', 'snapshot');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, 'cryo.cjs');
  await esbuild.build({
    entryPoints: [join(root, 'dist/src/cli/snapshot.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    define: { 'import.meta.url': 'globalThis.__cryoImportMetaUrl' },
    plugins: [lazyPlugin(root)],
    logLevel: 'warning',
  });
  // a snapshot has no module loader: a dynamic import() left in the bundle would fail at run time
  const left = /[^\w$.]import\(\s*["'`][^"'`]+/.exec(readFileSync(bundle, 'utf8'));
  if (left) throw new Error(`build: the bundle still holds ${left[0]}): bundle it (scripts/snapshot.mjs)`);
  // the bundle carries commander's code: its licence goes with it
  copyFileSync(join(root, 'node_modules/commander/LICENSE'), join(dir, 'LICENSE.commander'));
  // the same code `cryo setup` runs on a machine whose Node differs from the build's
  const { ensureStartupSnapshot } = await import('../dist/src/cli/startup-snapshot.js');
  return ensureStartupSnapshot({ force: true });
}
