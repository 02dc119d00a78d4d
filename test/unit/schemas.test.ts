// The published JSON Schemas: each compiles in ajv's strict mode, follows the house conventions,
// accepts good samples and rejects bad ones where expected; the CLI helper picks the right one.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { Command } from 'commander';
import { commandLoaders } from '../../src/cli/commands/index.js';
import { assertCliJson, assertMatchesSchema, schemaErrors, schemaForCall, schemaNames, schemasDir } from '../helpers/schema.js';

type Json = Record<string, unknown>;
const files = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json')).sort();
const read = (f: string) => JSON.parse(readFileSync(join(schemasDir, f), 'utf8')) as Json;

test('every schema compiles in strict mode, its $refs resolve, and it names itself', () => {
  assert.ok(files.length >= 15, `found only ${files.join(', ')}`);
  const all = files.map(read);
  for (const f of files) {
    const s = read(f);
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema', `${f}: $schema`);
    assert.ok(String(s.$id).endsWith(`/schemas/${f}`), `${f}: $id ${String(s.$id)} does not end with its file name`);
    assert.ok(typeof s.title === 'string' && typeof s.description === 'string', `${f}: title and description`);
    // a fresh instance per file, so that one file's error is reported as that file's
    const ajv = new Ajv2020.default({ strict: true, allErrors: true });
    for (const other of all) if (other.$id !== s.$id) ajv.addSchema(other);
    assert.doesNotThrow(() => ajv.compile(s), `${f} does not compile in strict mode`);
  }
});

/** Calls fn on every schema object under `node`, with a path for messages. */
function walk(node: unknown, at: string, fn: (s: Json, at: string) => void): void {
  if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`, fn));
  if (node === null || typeof node !== 'object') return;
  fn(node as Json, at);
  // if/then/else/not restate properties as rules; they define none
  for (const [k, v] of Object.entries(node as Json)) if (!['const', 'enum', 'if', 'then', 'else', 'not'].includes(k)) walk(v, `${at}/${k}`, fn);
}

test('every property has a title and a description; every object with properties says whether it is closed', () => {
  const missing: string[] = [];
  for (const f of files) {
    walk(read(f), f, (s, at) => {
      if (s.properties && typeof s.properties === 'object') {
        for (const [name, p] of Object.entries(s.properties as Json)) {
          if (typeof p === 'boolean') continue; // presence rules (true / false) in oneOf branches
          const ps = p as Json;
          if (typeof ps.title !== 'string' || typeof ps.description !== 'string') missing.push(`${at}/properties/${name}: title or description`);
        }
        // with a $ref beside them, the referenced schema decides
        if (s.type === 'object' && !('additionalProperties' in s) && !('$ref' in s)) missing.push(`${at}: additionalProperties not declared`);
      }
    });
  }
  assert.deepEqual(missing, []);
});

test('every command that has --json has a schema (check has two: the machine and --pid)', async () => {
  const program = new Command();
  for (const load of Object.values(commandLoaders)) (await load()).register(program);
  const withJson = program.commands.filter((c) => c.options.some((o) => o.long === '--json')).map((c) => c.name());
  assert.ok(withJson.includes('dump') && withJson.includes('mem'), `commands with --json: ${withJson.join(', ')}`);
  const names = new Set(schemaNames());
  for (const c of [...withJson, 'check-pid', 'decode', 'show', 'info', 'error']) assert.ok(names.has(c), `no schemas/${c}.schema.json`);
});

// ---- samples: good ones validate, each bad one fails at the stated place ----

const dumpStats = { freezing_time: 112, frozen_time: 7368, memdump_time: 738, memwrite_time: 266, pages_scanned: 162, pages_skipped_parent: 0, pages_written: 103, pages_lazy: 0, irmap_resolve: 0 };
const restoreStats = { pages_compared: 0, pages_skipped_cow: 0, forking_time: 277, restore_time: 3468, pages_restored: 103 };
const dumpDir = { pid: 1234, rootPid: 1233, pids: [1233, 1234], tree: 'ended', resume: null, wallMs: 210.4, criuMs: 120.2, commitMs: 40.1, imageBytes: 4325376, stats: dumpStats, dir: '/abs/ckpt' };
const { dir: _dir, ...dumpCommon } = dumpDir;
const dumpArchive = { ...dumpCommon, archive: '/abs/app.ckpt', bytes: 1234567 };
const restoreDir = { pid: 1234, rootPid: 1233, pidns: true, wallMs: 180, prepareMs: 2.1, criuMs: 150.3, imageBytes: 4325376, stats: restoreStats, dir: '/abs/ckpt' };
const { dir: _rdir, ...restoreCommon } = restoreDir;
const meta = {
  format: 'cryo-checkpoint', version: 2, createdAt: '2026-12-01T20:09:13.450Z', cryo: { version: '0.1.0' }, criu: { version: '4.2.1' },
  host: { hostname: 'vm', kernel: '6.18.44', arch: 'x64', cpu: 'Xeon', cpuFlags: ['fpu'] },
  tree: { pid: 1234, rootPid: 1233, pidns: true, nsPid: 2, netns: false, processes: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: 1, cmdline: ['sleep', '1000'] }] },
  restoreOptions: { tcpEstablished: true }, dumpOptions: { tcpEstablished: true }, stats: dumpStats,
  compression: { algorithm: 'zstd', level: 3 },
  files: [{ name: 'core-1.img', size: 4096, sha256: 'a'.repeat(64) }], totalBytes: 4096,
};
const proc = {
  pid: 1, ppid: 0, pgid: 1, sid: 1, comm: 'bash', state: 'alive', exe: '/usr/bin/bash', cmdline: ['bash'], cwd: '/', root: '/', umask: 18,
  creds: { uid: 0, gid: 0, euid: 0, egid: 0, suid: 0, sgid: 0, fsuid: 0, fsgid: 0, groups: [], capEff: '0x000001fffeffffff' },
  threads: 1, tasks: [{ tid: 1, comm: 'bash' }], namespaces: { pid: 9, net: 2 },
  fds: [{ fd: 0, type: 'REG', fileId: 18, description: '/dev/null', path: '/dev/null', flags: 0 },
    { fd: 3, type: 'UNIXSK', fileId: 20, description: 'unix stream established ino 5', socket: { family: 'unix', type: 'stream', state: 'established', ino: 5, peer: 6 }, flags: 2, peers: [{ pid: 2, fd: 4 }] }],
  mappings: [{ start: '0x556d9022a000', end: '0x556d90259000', size: 192512, prot: 'r-x', shared: false, name: '/usr/bin/bash', fileOffset: 4096, dumpedPages: 1 }],
  memory: { mappedBytes: 192512, dumpedPages: 1, dumpedBytes: 4096 }, children: [2],
};
const mref = { start: '0x1000', end: '0x2000', prot: 'rw-', name: '[heap]' };
const issue = { pid: 1234, fd: 3, kind: 'tcp-established', message: 'an established TCP connection' };

const lsRow = { name: 'job-20261201T204136069Z.ckpt', path: '/abs/jobs/job-20261201T204136069Z.ckpt', createdAt: '2026-12-01T20:41:36.069Z', bytes: 102650, imageBytes: 521598, command: ['/tmp/count.sh', '60'], frozenMs: 10.8, complete: true, verifiable: true, problem: null };
const lsTag = { name: 'cryo-000003-20261201T204136069Z', ref: 'oci://127.0.0.1:5000/jobs/sim:cryo-000003-20261201T204136069Z', digest: `sha256:${'b'.repeat(64)}`, createdAt: '2026-12-01T20:41:36.069Z', bytes: 98000, imageBytes: 521598, command: ['/tmp/count.sh', '60'], frozenMs: 10.8, complete: true, verifiable: false, problem: null };
const report = {
  format: 'cryo-report', version: 1, checkpoint: '/abs/ckpt', createdAt: '2026-01-01T00:00:00.000Z', criu: '4.2.1', host: 'box',
  inspect: { dir: '/abs/ckpt', imageVersion: 2, processes: [proc] }, stats: { dump: dumpStats },
  connections: [{ id: 'pipe-7', kind: 'pipe', label: 'pipe[7]', ends: [{ pid: 1, fd: 3 }, { pid: 2, fd: 4 }] }, { id: 'tcp-a-b', kind: 'tcp', label: 'tcp a ↔ b', ends: [{ pid: 1, fd: 5 }, { external: 'ext1' }] }],
  external: [{ id: 'ext1', kind: 'tcp', label: 'tcp 10.0.0.1:80' }],
  memory: [{ pid: 1, kinds: [{ kind: 'heap', mappings: 1, mappedBytes: 135168, dumpedBytes: 8192 }] }],
  files: [{ path: '/usr/bin/bash', uses: [{ pid: 1, as: 'exe' }, { pid: 1, as: 'map', mappings: 5 }] }],
};

const good: Array<[string, unknown]> = [
  ['dump', dumpDir],
  ['dump', dumpArchive],
  ['dump', { ...dumpDir, archive: undefined, tree: 'stopped', resume: 'kill -CONT -1233', stats: null }],
  ['dump', { ...dumpArchive, archive: '-' }],
  ['restore', restoreDir],
  ['restore', { ...restoreCommon, archive: '-', bytes: 10, stats: null }],
  ['run', { pid: 1234, rootPid: 1233, pidns: true }],
  ['ls', { dir: '/abs/jobs', checkpoints: [lsRow, { ...lsRow, imageBytes: null, command: null, frozenMs: null, complete: false, verifiable: false, problem: 'truncated' }] }],
  ['ls', { dir: null, checkpoints: [] }],
  ['ls', { repository: 'oci://127.0.0.1:5000/jobs/sim', checkpoints: [lsTag, { ...lsTag, name: 'latest', ref: 'oci://127.0.0.1:5000/jobs/sim:latest', digest: null, createdAt: null, bytes: null, imageBytes: null, command: null, frozenMs: null, complete: false, problem: 'not a cryo checkpoint' }] }],
  ['ls', { repository: 'oci://127.0.0.1:5000/jobs/sim', checkpoints: [] }],
  ['migrate', { pid: 1234, rootPid: 1233, pids: [1233, 1234], to: '169.254.10.2:7070', mode: 'no-lazy', tree: 'migrated', destination: { pid: 2234, rootPid: 2233 },
    downtimeMs: 5400, totalMs: 5600, bytesSent: 1073741824, imageBytes: 16132, pageBytes: 1073725692, pages: null, stats: dumpStats, modeReason: 'fs.pipe-max-size is 1048576' }],
  ['migrate', { pid: 1234, rootPid: 1233, pids: [1233, 1234], to: '169.254.10.2:7070', mode: 'lazy', tree: 'migrated', destination: { pid: 2234, rootPid: 2233 },
    downtimeMs: 670, totalMs: 6000, bytesSent: 1075000000, imageBytes: 2102887, pageBytes: 1073000000, pages: { onDemand: 90, background: 262000 }, stats: null }],
  ['receive', { pid: 2234, rootPid: 2233, pidns: true, from: '169.254.10.1:58494', mode: 'lazy', wallMs: 4212.8, criuMs: 98.6, imageBytes: 2102887, pages: { onDemand: 90, background: 17746 }, refused: 1 }],
  ['check', { ok: true, criu: { path: '/usr/sbin/criu', version: '4.2.1', source: 'path', check: 'Looks good.' }, kernel: '6.18', root: true, missingCapabilities: [],
    features: { memoryTracking: false, lazyPages: true, pidfdStore: true, timeNamespace: true }, networkLock: { iptables: false, nftables: true, default: 'nftables' }, problems: [] }],
  ['check', { ok: false, criu: { error: 'no criu found' }, kernel: '6.18', root: false, missingCapabilities: ['CAP_SYS_ADMIN'],
    features: { memoryTracking: false, lazyPages: false, pidfdStore: false, timeNamespace: false }, networkLock: { iptables: false, nftables: false, default: 'nftables' }, problems: ['no criu found'] }],
  ['check-pid', { pid: 1234, rootPid: 1233, dumpable: false, options: ['--tcp-established'], blockers: [], findings: [issue],
    processes: [{ pid: 1233, ppid: 1, comm: 'sh', state: 'S', threads: 1, pgid: 1233, sid: 1233, tracerPid: 0, fds: 3, sharesFdTableWith: [1234] }] }],
  ['inspect', { dir: '/abs/ckpt', imageVersion: 2, processes: [proc], mounts: [{ id: 1, parent: 0, mountpoint: '/', fstype: 'ext4' }] }],
  ['stats', { dump: dumpStats }],
  ['stats', { dump: dumpStats, restore: restoreStats }],
  ['diff', { a: '/a', b: '/b', processesAdded: [{ pid: 3, comm: 'x' }], processesGone: [], same: false, processes: [{
    pid: 1, comm: 'bash', tidsAdded: [5], tidsGone: [], filesOpened: [{ fd: 4, type: 'REG', description: '/tmp/x', socket: false }], filesClosed: [],
    mappingsAdded: [mref], mappingsGone: [], mappingsChanged: [{ before: mref, after: { ...mref, end: '0x3000' } }],
    memory: [{ mapping: mref, changedPages: 1, changedBytes: 4096, pages: ['0x1000'] }], changedPages: 1, changedBytes: 4096 }] }],
  ['inspect', { dir: '/abs/ckpt', processes: [proc], container: { engine: 'podman', name: 'web', image: 'quay.io/x/web:1', runtime: 'crun', compression: 'zstd', artifacts: [{ name: 'rootfs-diff.tar', bytes: 10240 }] } }],
  ['report', report],
  ['report', { ...report, against: '/abs/a', diff: { a: '/abs/a', b: '/abs/ckpt', processesAdded: [], processesGone: [], same: false, processes: [{ pid: 1, comm: 'bash', tidsAdded: [], tidsGone: [], filesOpened: [], filesClosed: [],
    mappingsAdded: [], mappingsGone: [], mappingsChanged: [], memory: [{ mapping: mref, changedPages: 1, changedBytes: 4096, pages: ['0x1000'] }], changedPages: 1, changedBytes: 4096 }] },
    heat: [{ pid: 1, start: '0x1000', end: '0x2000', name: '[heap]', pages: 1, changedPages: 1, cells: [1] }] }],
  ['mem', { count: 1, matches: [{ pid: 1, address: '0x1869', length: 5, offset: 9, mapping: mref, match: 'sleep', context: { start: '0x1859', hex: '00ff', text: '..' } }] }],
  ['mem', { count: 0, matches: [] }],
  ['mem', { pid: 1, start: '0x1859', length: 64, file: 'out.bin', notDumped: [{ start: '0x2000', end: '0x3000' }] }],
  ['mem#/$defs/dump', { pid: 1, start: '0x1859', length: 64, file: 'out.bin', notDumped: [] }],
  ['verify', { ok: true, archive: '/abs/app.ckpt', files: 22, imageBytes: 521598, bytes: 72071, meta }],
  ['verify', { ok: true, dir: '/abs/ckpt', files: 0, imageBytes: 0, meta: null }],
  ['dump', { ...dumpArchive, archive: 'oci://localhost:5000/app:warm' }],
  ['push', { ref: 'oci://localhost:5000/app:warm', digest: `sha256:${'a'.repeat(64)}`, blobs: 20, uploadedBlobs: 3, blobBytes: 53190, uploadedBytes: 9000, imageBytes: 334774, encrypted: false, wallMs: 389.3 }],
  ['pull', { ref: 'oci://localhost:5000/app:warm', digest: `sha256:${'a'.repeat(64)}`, archive: '/abs/app.ckpt', bytes: 51606, blobBytes: 57518, imageBytes: 334774, files: 21, encrypted: true, wallMs: 298.5 }],
  ['checkpoint', { ...meta, compression: undefined }],
  ['checkpoint', { ...meta, dependencies: [
    { path: '/tmp/proj/app.log', kind: 'file', uses: ['fd'], size: 95, mtimeMs: 1796242000000.5, mode: 0o644, uid: 0, gid: 0, sha256: 'a'.repeat(64), writable: true, system: false, included: true },
    { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', kind: 'file', uses: ['map'], size: 1926232, mtimeMs: 1, mode: 0o755, uid: 0, gid: 0, buildId: '93ac61ec', writable: false, system: true, included: false },
    { path: '/tmp/proj', kind: 'dir', uses: ['cwd'], size: 0, mtimeMs: 1, mode: 0o755, uid: 0, gid: 0, writable: false, system: false, included: true },
  ] }],
  ['check-input', { input: '/abs/app.ckpt', restorable: true, blockers: [], findings: [], criu: { dump: '4.2.1', here: '4.2.1' }, kernel: { dump: '6.18', here: '6.18' }, cpu: 'same', files: [] }],
  ['check-input', { input: '/abs/ckpt', restorable: false, criu: { dump: null, here: null }, kernel: { dump: null, here: '6.18' }, cpu: 'incompatible',
    blockers: [{ area: 'files', message: '/tmp/proj/app.db is missing', fix: 'dump with --include /tmp/proj', path: '/tmp/proj/app.db' }, { area: 'cpu', message: 'this CPU lacks avx512pf', fix: 'restore elsewhere' },
      { area: 'ports', message: 'TCP port 8080 is taken here', fix: 'stop it', port: 8080 }, { area: 'pids', message: 'pid 7 is taken', fix: 'end it', pid: 7 }],
    findings: [{ area: 'users', message: 'uid 1000 of the tree has no user here', fix: 'create it' }],
    files: [{ path: '/tmp/proj/app.db', problem: 'missing', why: 'is missing', blocker: true, fix: 'dump with --include /tmp/proj' }] }],
  ['decode', { magic: 'PSTREE', entries: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1] }] }],
  ['show', { magic: 'INVENTORY', entries: [] }],
  ['info', { magic: 'PSTREE', count: 2 }],
  ['info', { magic: 'RAW', size: 299008 }],
  ['setup', { criu: '/root/.cache/cryo/criu/bin/criu', version: '4.2.1', source: 'provisioned', crit: '/root/.cache/cryo/crit/bin/crit' }],
  ['error', { error: { code: 'NO_PROCESS', message: 'no process with pid 999999', hint: 'check the pid with `ps`', exitCode: 1, pid: 999999 } }],
  ['error', { error: { code: 'USAGE', message: 'missing -D DIR', exitCode: 2 } }],
];

// [schema, sample, instance path of the expected failure, what the message must mention]
const bad: Array<[string, unknown, string, RegExp]> = [
  ['ls', { dir: '/abs/jobs', checkpoints: [{ ...lsRow, frozenMs: '10.8' }] }, '/checkpoints/0/frozenMs', /number|null/],
  ['ls', { dir: 'jobs', checkpoints: [] }, '/dir', /pattern|null/],
  ['ls', { repository: 'oci://127.0.0.1:5000/jobs/sim', checkpoints: [{ ...lsTag, path: '/abs/x' }] }, '/checkpoints/0', /"path"|oneOf/],
  ['ls', { repository: 'oci://127.0.0.1:5000/jobs/sim', dir: null, checkpoints: [] }, '(top level)', /"dir"|oneOf/],
  ['ls', { repository: '127.0.0.1:5000/jobs/sim', checkpoints: [] }, '/repository', /pattern|oneOf/],
  ['dump', { ...dumpDir, pids: undefined }, '(top level)', /required property "pids"/],
  ['dump', { ...dumpDir, archive: '/abs/app.ckpt', bytes: 10 }, '(top level)', /oneOf|must not be present/],
  ['dump', { ...dumpCommon }, '(top level)', /oneOf|required property "dir"/],
  ['dump', { ...dumpArchive, bytes: undefined }, '(top level)', /required property "bytes"/],
  ['dump', { ...dumpDir, tree: 'stopped', resume: null }, '/resume', /must be string/],
  ['dump', { ...dumpDir, tree: 'frozen' }, '/tree', /one of/],
  ['dump', { ...dumpDir, wallMs: '210' }, '/wallMs', /must be number/],
  ['dump', { ...dumpDir, dir: 'relative/ckpt' }, '/dir', /pattern/],
  ['dump', { ...dumpDir, stats: { frozenTimeUs: 7575 } }, '/stats', /frozen_time|must be null/],
  ['dump', { ...dumpDir, log: '/abs/ckpt/dump.log' }, '(top level)', /"log"/],
  ['restore', { ...restoreDir, extractMs: 1 }, '(top level)', /"extractMs"/],
  ['migrate', { pid: 1, rootPid: 1, pids: [1], to: 'x:1', mode: 'fast', tree: 'migrated', destination: { pid: 2, rootPid: 2 }, downtimeMs: 1, totalMs: 1, bytesSent: 0, imageBytes: 0, pageBytes: 0, pages: null, stats: null }, '/mode', /one of/],
  ['receive', { pid: 2, rootPid: 2, pidns: true, from: 'x:1', mode: 'lazy', wallMs: 1, criuMs: 1, imageBytes: 0, pages: { onDemand: 1 }, refused: 0 }, '/pages', /background|must be null/],
  ['restore', { ...restoreCommon, archive: 'rel.ckpt', bytes: 1 }, '/archive', /pattern/],
  ['run', { pid: 1234, initPid: 1233, pidns: true }, '(top level)', /"initPid"|"rootPid"/],
  ['run', { pid: 0, rootPid: 1, pidns: false }, '/pid', />= 1/],
  ['check-pid', { pid: 1234, root: 1233, dumpable: true, options: [], blockers: [], findings: [], processes: [] }, '(top level)', /"root"|"rootPid"/],
  ['check-pid', { pid: 1, rootPid: 1, dumpable: true, options: [], blockers: [{ pid: 1 }], findings: [], processes: [] }, '/blockers/0', /"kind"/],
  ['check', { ok: true }, '(top level)', /required property "criu"/],
  ['check-input', { input: '/a', blockers: [], findings: [], criu: { dump: null, here: null }, kernel: { dump: null, here: '6' }, cpu: 'same', files: [] }, '(top level)', /required property "restorable"/],
  ['check-input', { input: '/a', restorable: true, blockers: [{ area: 'disk', message: 'x', fix: 'y' }], findings: [], criu: { dump: null, here: null }, kernel: { dump: null, here: '6' }, cpu: 'same', files: [] }, '/blockers/0/area', /one of/],
  ['checkpoint', { ...meta, dependencies: [{ path: 'rel/x', kind: 'file', uses: [], size: 0, mtimeMs: 0, mode: 0, uid: 0, gid: 0, writable: false, system: false, included: false }] }, '/dependencies/0/path', /pattern/],
  ['inspect', { dir: '/abs', processes: [{ ...proc, threads: [{ tid: 1 }] }] }, '/processes/0/threads', /integer/],
  ['inspect', { dir: '/abs', processes: [{ ...proc, tasks: undefined }] }, '/processes/0', /"tasks"/],
  ['inspect', { dir: '/abs', processes: [{ ...proc, namespaces: { pidns: 1 } }] }, '/processes/0/namespaces', /"pidns"/],
  ['inspect', { dir: '/abs', processes: [{ ...proc, mappings: [{ ...proc.mappings[0], prot: 'rwx!' }] }] }, '/processes/0/mappings/0/prot', /pattern/],
  ['report', { ...report, stats: undefined }, '(top level)', /required property "stats"/],
  ['report', { ...report, connections: [{ id: 'x', kind: 'carrier-pigeon', label: 'x', ends: [{ pid: 1 }] }] }, '/connections/0/kind', /one of/],
  ['report', { ...report, inspect: { ...report.inspect, processes: [{ ...proc, tasks: undefined }] } }, '/inspect/processes/0', /"tasks"/],
  ['inspect', { dir: '/abs', processes: [proc], container: { name: 'web', compression: 'rar' } }, '/container/compression', /one of/],
  ['stats', {}, '(top level)', /fewer than 1/],
  ['stats', { dump: { ...dumpStats, frozen_time: -1 } }, '/dump/frozen_time', />= 0/],
  ['diff', { a: '/a', b: '/b', processesAdded: [], processesGone: [], same: false, processes: [{ pid: 1, comm: 'x', threadsAdded: [], threadsGone: [], filesOpened: [], filesClosed: [],
    mappingsAdded: [], mappingsGone: [], mappingsChanged: [], memory: [], changedPages: 0, changedBytes: 0 }] }, '/processes/0', /"threadsAdded"|"tidsAdded"/],
  ['mem#/$defs/search', { count: 1, matches: [{ pid: 1, address: '1869', length: 5, offset: 0, mapping: mref, match: 'x', context: { start: '0x1', hex: '', text: '' } }] }, '/matches/0/address', /pattern/],
  ['mem', { count: 0, matches: [], file: 'x' }, '(top level)', /oneOf/],
  ['verify', { ok: false, archive: '/x', error: 'BAD_ARCHIVE', message: 'bad', exitCode: 4 }, '/ok', /true/],
  ['verify', { ok: true, archive: '/x', files: 1, imageBytes: 1, bytes: 1, meta, dir: '/x' }, '(top level)', /oneOf|must match/],
  ['checkpoint', { ...meta, version: 1 }, '/version', /2/],
  ['checkpoint', { ...meta, tree: { ...meta.tree, processes: [{ pid: 1, ppid: 0, pgid: 1, sid: 1, threads: [1] }] } }, '/tree/processes/0/threads', /integer/],
  ['decode', { magic: 'PSTREE' }, '(top level)', /"entries"/],
  ['decode', { magic: 'pstree', entries: [] }, '/magic', /pattern/],
  ['info', { magic: 'RAW', count: 1 }, '(top level)', /oneOf/],
  ['setup', { criu: 'criu', version: '4.2.1', source: 'path' }, '/criu', /pattern/],
  ['error', { ok: false, error: 'BAD_ARCHIVE', message: 'x', exitCode: 4 }, '/error', /object/],
  ['error', { error: { code: 'NOPE', message: 'x', exitCode: 1 } }, '/error/code', /one of/],
  ['error', { error: { code: 'FAILED', message: 'two\nlines', exitCode: 1 } }, '/error/message', /pattern/],
  ['error', { error: { code: 'FAILED', message: 'x', exitCode: 0 } }, '/error/exitCode', /one of/],
  ['error', { error: { code: 'FAILED', message: 'x' } }, '/error', /"exitCode"/],
];

/** JSON round trip: drops the keys the samples set to undefined, as JSON.stringify does. */
const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

test('good samples validate', () => {
  for (const [name, sample] of good) assert.deepEqual(schemaErrors(name, json(sample)), [], `${name}: ${JSON.stringify(sample).slice(0, 120)}`);
});

test('bad samples fail where expected, with the instance path and what was expected', () => {
  for (const [name, sample, path, mention] of bad) {
    const errors = schemaErrors(name, json(sample));
    assert.ok(errors.length > 0, `${name} accepted ${JSON.stringify(sample).slice(0, 160)}`);
    assert.ok(errors.some((e) => e.trimStart().startsWith(`${path}:`) && mention.test(e)), `${name}: expected a failure at ${path} mentioning ${mention}, got:\n${errors.join('\n')}`);
  }
});

test('assertMatchesSchema names the schema file, the path and the offending value', () => {
  assert.throws(() => assertMatchesSchema('run', { pid: 'x', rootPid: 1, pidns: true }, 'sample'), (e: Error) => {
    assert.match(e.message, /sample does not match schemas\/run\.schema\.json/);
    assert.match(e.message, /\/pid: must be integer .*got "x"/);
    return true;
  });
  assert.throws(() => assertMatchesSchema('nope', {}), /no schema named "nope"/);
});

test('schemaForCall picks the schema from the argv, the exit code and stdout', () => {
  const err = JSON.stringify({ error: { code: 'NO_PROCESS', message: 'no process', exitCode: 1 } });
  const cases: Array<[string[], number, string, string | undefined]> = [
    [['dump', '12', '-D', '/x', '--json'], 0, '{}', 'dump'],
    [['--criu', '/c', 'dump', '12', '-o', '/x.ckpt', '--json'], 0, '{}', 'dump'],
    [['dump', '12', '-o', '-', '--json'], 0, 'binary', undefined],
    [['dump', '12', '-D', '/x', '--json'], 1, err, 'error'],
    [['dump', '12', '-D', '/x', '--json'], 1, '', 'dump'],
    [['dump', '12', '-D', '/x'], 0, '', undefined],
    [['check', '--json'], 3, '{"ok":false}', 'check'],
    [['check', '--pid', '12', '--json'], 1, '{}', 'check-pid'],
    [['check', '-i', 'app.ckpt', '--json'], 1, '{"restorable":false}', 'check-input'],
    [['check', '--input=app.ckpt', '--json'], 0, '{}', 'check-input'],
    [['mem', 'd', '--search', 'x', '--json'], 1, '{"count":0,"matches":[]}', 'mem#/$defs/search'],
    [['mem', 'd', '--pid', '1', '--dump', '0x1+4', '-o', 'f', '--json'], 0, '{}', 'mem#/$defs/dump'],
    [['run', '--json', '--', 'prog', '--help'], 0, '{}', 'run'],
    [['run', '--', 'prog', '--json'], 0, '123', undefined],
    [['dump', '--help', '--json'], 0, 'Usage', undefined],
    [['decode', '-i', 'x.img'], 0, '{}', 'decode'],
    [['decode', '-i', 'x.img', '-o', 'x.json'], 0, '', undefined],
    [['decode', '-i', 'x.img'], 4, '', undefined],
    [['show', 'x.img'], 0, '{}', 'show'],
    [['info', 'x.img'], 0, '{}', 'info'],
    [['verify', 'a.ckpt', '--json'], 4, err, 'error'],
    [['encode', '-i', 'x'], 0, '', undefined],
  ];
  for (const [argv, status, stdout, want] of cases) assert.equal(schemaForCall(argv, status, stdout), want, argv.join(' '));
});

test('assertCliJson accepts matching output and silent failures, rejects the rest naming the call', () => {
  assert.doesNotThrow(() => assertCliJson(['run', '--json', '--', 'x'], { status: 0, stdout: '{"pid":2,"rootPid":1,"pidns":true}\n' }));
  assert.doesNotThrow(() => assertCliJson(['dump', '1', '-D', '/x', '--json'], { status: 1, stdout: '' }));
  assert.throws(() => assertCliJson(['run', '--json', '--', 'x'], { status: 0, stdout: '{"pid":2,"initPid":1,"pidns":true}\n' }),
    /stdout of cryo run --json -- x \(exit 0\) does not match schemas\/run\.schema\.json:\n.*"initPid"/);
  assert.throws(() => assertCliJson(['stats', 'd', '--json'], { status: 0, stdout: 'dump\n  frozen time 7 ms' }), /stdout is not one JSON value/);
  assert.throws(() => assertCliJson(['stats', 'd', '--json'], { status: 0, stdout: '' }), /printed nothing on stdout/);
  assert.throws(() => assertCliJson(['dump', '1', '-D', '/x', '--json'], { status: 1, stdout: '{"error":{"code":"NO_PROCESS","message":"x"}}' }),
    /schemas\/error\.schema\.json:\n.*\/error: lacks the required property "exitCode"/);
});
