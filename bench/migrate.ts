// Live migration against its peer, stop-and-copy, in one run: a 1 GiB tree (cryo run) moves between
// two network namespaces joined by a veth pair by (1) `cryo dump -o - | <tcp> | cryo restore -i -`,
// (2) `cryo migrate --no-lazy`, (3) `cryo migrate --lazy`. Prints downtime (frozen on the source to
// running on the destination) and total time of each, and the ratios to stop-and-copy.
// Stop-and-copy's freeze starts after cryo's start-up: its times are wall minus that start-up (median
// of `cryo --version`), and its stream crosses as plain TCP (no TLS: the peer gets the benefit).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copiesOf, inHost, makeHostPair, raisePipeMaxSize, startCryoIn, startMemoryTree, waitListening, type HostPair } from '../test/helpers/netns.js';
import { cliPath } from '../test/helpers/trees.js';

const MIB = Number(process.env.CRYO_BENCH_MIB ?? 1024);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cliStartupMs(): number {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, [cliPath, '--version'], { stdio: 'ignore' });
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

interface Row {
  name: string;
  downtimeMs: number;
  totalMs: number;
}

/** dump -o - | TCP | restore -i -: B listens and pipes the stream into restore; A pipes dump into a TCP client. */
async function stopAndCopy(pair: HostPair, dir: string, startup: number): Promise<Row> {
  const { a, b } = pair;
  const tree = await startMemoryTree(a, dir, MIB);
  const port = 7401;
  const sink = `const srv = require('net').createServer((s) => { srv.close(); s.pipe(process.stdout); }).listen(${port}, '${b.ip}')`;
  const recvSh = `'${process.execPath}' -e "${sink}" | '${process.execPath}' '${cliPath}' restore -i - --json`;
  const rargv = inHost(b, ['sh', '-c', recvSh]);
  const rec = spawn(rargv[0]!, rargv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rec.stdout.on('data', (d) => (out += d));
  const restored = new Promise<number>((resolve) => rec.on('close', () => resolve(performance.now())));
  await waitListening(b, port);
  const client = `const s = require('net').connect(${port}, '${b.ip}'); process.stdin.pipe(s)`;
  const sendSh = `'${process.execPath}' '${cliPath}' dump ${tree.pid} -o - --end-after-write | '${process.execPath}' -e "${client}"`;
  const sargv = inHost(a, ['sh', '-c', sendSh]);
  const t0 = performance.now();
  const snd = spawn(sargv[0]!, sargv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const t1 = await restored;
  await new Promise((r) => (snd.exitCode !== null ? r(null) : snd.on('close', r)));
  if (!out.trim()) {
    killAll([tree.rootPid]);
    throw new Error('stop-and-copy: the restore failed');
  }
  const res = JSON.parse(out) as { pid: number; rootPid: number };
  if (copiesOf(tree.marker).join() !== String(res.pid)) {
    killAll([res.rootPid, tree.rootPid]);
    throw new Error('stop-and-copy: not exactly one copy');
  }
  killAll([res.rootPid, tree.rootPid]);
  const ms = t1 - t0 - startup;
  return { name: 'dump -o - \\| restore -i -', downtimeMs: ms, totalMs: ms };
}

async function viaMigrate(pair: HostPair, dir: string, token: string, mode: '--no-lazy' | '--lazy', port: number): Promise<Row> {
  const { a, b } = pair;
  const tree = await startMemoryTree(a, dir, MIB);
  const rec = startCryoIn(b, ['receive', '--listen', `${b.ip}:${port}`, '--token-file', token, '--json'], 600_000);
  await waitListening(b, port);
  const mig = startCryoIn(a, ['migrate', String(tree.pid), '--to', `${b.ip}:${port}`, mode, '--token-file', token, '--json'], 600_000);
  const [m, r] = await Promise.all([mig.done, rec.done]);
  if (m.status !== 0 || r.status !== 0) throw new Error(`migrate ${mode} failed: ${m.stderr} ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  const out = JSON.parse(m.stdout) as { downtimeMs: number; totalMs: number };
  const copies = copiesOf(tree.marker).join();
  killAll([res.rootPid, tree.rootPid]);
  if (copies !== String(res.pid)) throw new Error(`migrate ${mode}: not exactly one copy`);
  return { name: `migrate ${mode}`, downtimeMs: out.downtimeMs, totalMs: out.totalMs };
}

async function main(): Promise<void> {
  const pair = makeHostPair();
  const putBack = raisePipeMaxSize();
  const dir = mkdtempSync(join(tmpdir(), 'cryo-bench-migrate-'));
  const token = join(dir, 'token');
  writeFileSync(token, 'bench-migrate-token-0123456789abcdef\n', { mode: 0o600 });
  try {
    const startup = cliStartupMs();
    const rows = [await stopAndCopy(pair, dir, startup), await viaMigrate(pair, dir, token, '--no-lazy', 7402), await viaMigrate(pair, dir, token, '--lazy', 7403)];
    const base = rows[0]!;
    console.log(`${MIB} MiB tree over a veth link (cryo start-up ${startup.toFixed(0)} ms subtracted from stop-and-copy)\n`);
    console.log('| way | downtime ms | total ms | downtime / stop-and-copy | total / stop-and-copy |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      console.log(`| ${r.name} | ${r.downtimeMs.toFixed(0)} | ${r.totalMs.toFixed(0)} | ${(r.downtimeMs / base.downtimeMs).toFixed(2)}x | ${(r.totalMs / base.totalMs).toFixed(2)}x |`);
    }
    const lazy = rows[2]!;
    console.log(`\ngoal: lazy downtime <= 0.2x (${(lazy.downtimeMs / base.downtimeMs).toFixed(2)}x), lazy total <= 1.5x (${(lazy.totalMs / base.totalMs).toFixed(2)}x)`);
  } finally {
    pair.cleanup();
    putBack();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
