// Build: type-check and emit with tsc, then compile proto/ ahead of time into one JSON
// descriptor so no .proto text is parsed when cryo starts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { buildSnapshot } from './snapshot.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// --clean (npm pack's prepack): no stale output of deleted sources may reach the tarball
if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const kind of ['images', 'rpc']) {
  const dir = join(root, 'proto', kind);
  const pb = new protobuf.Root();
  // imports are relative to proto/images (rpc.proto imports nothing of ours)
  pb.resolvePath = (_origin, target) => target.startsWith('/') ? target
    : target.startsWith('google/') ? join(root, 'node_modules', 'protobufjs', target) : join(root, 'proto', 'images', target);
  pb.loadSync(readdirSync(dir).filter((f) => f.endsWith('.proto')).map((f) => join(dir, f)), { keepCase: true, alternateCommentMode: false });
  pb.resolveAll();
  const out = join(root, 'dist', 'proto', `${kind}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(pb.toJSON({ keepComments: false })));
}
chmodSync(join(root, 'dist/src/cli/main.js'), 0o755);

// the launcher starts this when it fits the Node in use; without it cryo runs from its modules
const snap = await buildSnapshot(root);
if (snap.state === 'unavailable') {
  // a module that freezes build-time state, or a bundle node cannot snapshot: a bug to fix, not to ship
  console.error(`build: no start-up snapshot: ${snap.reason}`);
  process.exit(1);
}
