// Two "hosts" for migration tests: network namespaces made by the test, joined by a veth pair with
// link-local addresses, entered with `nsenter --net` (not `ip netns exec`, whose private mount
// namespace makes CRIU's dump fail). Everything made here is removed by name in cleanup().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, killTree, tempDir } from './trees.js';

export interface NetHost {
  name: string;
  ip: string;
}

export interface HostPair {
  a: NetHost;
  b: NetHost;
  /** removes both namespaces (and with them the veth pair) */
  cleanup(): void;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Whether this machine can make network namespaces (root, iproute2, nsenter). */
export function canMakeHosts(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0 && spawnSync('nsenter', ['--version']).status === 0;
}

/** Two namespaces A and B joined by a veth pair, 169.254.N.1 and 169.254.N.2. */
export function makeHostPair(): HostPair {
  const tag = randomBytes(3).toString('hex');
  const net = 10 + (randomBytes(1)[0]! % 240);
  const a = { name: `cryo-ma-${tag}`, ip: `169.254.${net}.1` };
  const b = { name: `cryo-mb-${tag}`, ip: `169.254.${net}.2` };
  const made: string[] = [];
  const cleanup = () => {
    for (const n of made.splice(0)) spawnSync('ip', ['netns', 'del', n]);
  };
  try {
    for (const h of [a, b]) {
      ip(['netns', 'add', h.name]);
      made.push(h.name);
    }
    ip(['link', 'add', `cva${tag}`, 'type', 'veth', 'peer', 'name', `cvb${tag}`]);
    ip(['link', 'set', `cva${tag}`, 'netns', a.name]);
    ip(['link', 'set', `cvb${tag}`, 'netns', b.name]);
    for (const [h, dev] of [[a, `cva${tag}`], [b, `cvb${tag}`]] as const) {
      ip(['-n', h.name, 'addr', 'add', `${h.ip}/24`, 'dev', dev]);
      ip(['-n', h.name, 'link', 'set', dev, 'up']);
      ip(['-n', h.name, 'link', 'set', 'lo', 'up']);
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  return { a, b, cleanup };
}

/** argv that runs `cmd` inside host `h`'s network namespace. */
export function inHost(h: NetHost, cmd: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${h.name}`, '--', ...cmd];
}

export interface HostCliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `cryo ARGS` inside host `h` (after the `wrap` command, which must exec it); `done` resolves when it exits (killed after timeoutMs). */
export function startCryoIn(h: NetHost, args: string[], timeoutMs = 120_000, wrap: string[] = []): { child: ChildProcess; done: Promise<HostCliResult> } {
  const argv = inHost(h, [...wrap, process.execPath, cliPath, ...args]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<HostCliResult>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
  return { child, done };
}

/** Sets fs.pipe-max-size to at least `min` (lazy pages need 4 MiB); returns a function that puts the old value back. */
export function raisePipeMaxSize(min = 4 * 1024 * 1024): () => void {
  const path = '/proc/sys/fs/pipe-max-size';
  const old = readFileSync(path, 'utf8').trim();
  if (Number(old) >= min) return () => undefined;
  writeFileSync(path, String(min));
  return () => writeFileSync(path, old);
}

/**
 * The migrated tree: holds `mib` MiB whose every page carries its own index, writes its counter to
 * STATE every 20 ms, and on SIGUSR1 writes the SHA-256 of its memory (computed by itself) to SUM.
 * argv: MARKER STATE SUM MIB [HOLD]; the checksum before any migration is written to SUM.initial;
 * HOLD: a file the tree keeps open (a restore fails where it is missing).
 */
export const MEMORY_TREE = `
import hashlib, os, signal, struct, sys, time
marker, state, summ, mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
held = open(sys.argv[5], 'a') if len(sys.argv) > 5 else None
buf = bytearray(mib << 20)
for i in range(len(buf) >> 12):
    buf[i << 12:(i + 1) << 12] = struct.pack('<Q', i) * 512
def put(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f: f.write(text)
    os.replace(tmp, path)
put(summ + '.initial', hashlib.sha256(buf).hexdigest())
want = []
signal.signal(signal.SIGUSR1, lambda *a: want.append(1))
n = 0
while True:
    n += 1
    if want:
        want.clear()
        put(summ, hashlib.sha256(buf).hexdigest())
    put(state, str(n))
    time.sleep(0.02)
`;

/** Host pids of the live (not zombie) python processes whose command line carries `marker`: the tree's copies. */
export function copiesOf(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.includes('python') || !argv.includes(marker)) continue;
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && state !== 'X') out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The one-letter state of a pid ('t' while CRIU holds it frozen), or undefined when gone. */
export function stateOf(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export interface MemoryTree {
  pid: number;
  rootPid: number;
  marker: string;
  dir: string;
  counter(): number;
  /** asks the copy `pid` for the checksum of its memory and waits for it */
  checksum(pid: number, timeoutMs?: number): Promise<string>;
  initialChecksum(): string;
}

/** Starts MEMORY_TREE with `cryo run` inside host `h`; resolves once its memory is filled. */
export async function startMemoryTree(h: NetHost, dir: string, mib: number, hold?: string): Promise<MemoryTree> {
  const marker = `cryo-mt-${randomBytes(4).toString('hex')}`;
  const script = join(dir, 'tree.py');
  if (!existsSync(script)) writeFileSync(script, MEMORY_TREE);
  const state = join(dir, `${marker}.state`);
  const sum = join(dir, `${marker}.sum`);
  const argv = inHost(h, [process.execPath, cliPath, 'run', '--json', '--', 'python3', script, marker, state, sum, String(mib), ...(hold ? [hold] : [])]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cryo run failed: ${r.stderr}`);
  const started = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  const deadline = Date.now() + 60_000;
  while (!existsSync(`${sum}.initial`) || !existsSync(state)) {
    if (Date.now() > deadline) throw new Error('the memory tree did not start');
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    ...started,
    marker,
    dir,
    counter: () => Number(readFileSync(state, 'utf8')),
    initialChecksum: () => readFileSync(`${sum}.initial`, 'utf8'),
    async checksum(pid, timeoutMs = 30_000) {
      rmSync(sum, { force: true });
      process.kill(pid, 'SIGUSR1');
      const end = Date.now() + timeoutMs;
      while (!existsSync(sum)) {
        if (Date.now() > end) throw new Error(`no checksum from ${pid}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      return readFileSync(sum, 'utf8');
    },
  };
}

/** Waits until something listens on `ip:port` inside host `h`; returns the listening addresses `ss` shows. */
export async function waitListening(h: NetHost, port: number, timeoutMs = 20_000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const argv = inHost(h, ['ss', '-Hltn', `sport = :${port}`]);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const addrs = r.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3] ?? '');
    if (addrs.length > 0) return addrs;
    if (Date.now() > end) throw new Error(`nothing listens on port ${port} in ${h.name}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** What a migration test file shares: two hosts, a work dir with a token file, the trees it started. */
export interface MigrationHosts {
  pair: HostPair;
  dir: string;
  /** path of a 0600 token file both ends use */
  token: string;
  /** root pids to end afterwards */
  started: number[];
  /** ends the started trees, the hosts, the raised pipe size and the work dir */
  cleanup(): void;
}

/** Two hosts for a migration test file, or undefined when this machine cannot make them (not root, no ip/nsenter). */
export function makeMigrationHosts(prefix: string, tokenText: string): MigrationHosts | undefined {
  if (process.getuid?.() !== 0 || !canMakeHosts()) return undefined;
  const pair = makeHostPair();
  const putPipeBack = raisePipeMaxSize();
  const dir = tempDir(prefix);
  const token = join(dir, 'token');
  writeFileSync(token, `${tokenText}\n`, { mode: 0o600 });
  const started: number[] = [];
  return {
    pair, dir, token, started,
    cleanup() {
      for (const p of started) killTree(p);
      // and any copy of a tree the test made that a failed migration left (found by the marker it gave
      // each tree, whose state file is in dir), wherever it runs, stopped or not
      for (const f of readdirSync(dir)) {
        const m = /^(cryo-mt-[0-9a-f]{8})\.state$/.exec(f);
        for (const p of m ? copiesOf(m[1]!) : []) {
          // a restored copy runs under its own cryo init, which a stopped copy would leave behind
          let target = p;
          try {
            const ppid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
            if (ppid > 1 && readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').includes('cryo-init')) target = ppid;
          } catch {
            // gone meanwhile
          }
          killTree(target);
        }
      }
      pair.cleanup();
      putPipeBack();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
