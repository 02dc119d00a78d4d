// A fake `criu swrk 3` for RPC unit tests: speaks CRIU's protocol on fd 3 and misbehaves on request.
// FAKE_CRIU_SCENARIO picks the behaviour; FAKE_CRIU_RECORD (a file) receives one JSON line per request
// or NOTIFY reply it read. makeFakeCriu() writes a wrapper script that a test passes as the criu path.
import { appendFileSync, chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCriuRequest, encodeCriuResponse } from '../../src/criu/rpc/codec.js';
import type { CriuRequest, CriuResponse } from '../../src/criu/rpc/types.js';
import { recvPacket, sendPacket } from '../../src/kernel/socket.js';

export type FakeScenario =
  | 'version'
  | 'notify'
  | 'fail'
  | 'truncated'
  | 'garbage'
  | 'exit-early'
  | 'large'
  | 'mismatch'
  | 'hang'
  | 'pre-dump';

/** Writes an executable wrapper that runs this fake with `scenario`; returns its path and record file. */
export function makeFakeCriu(scenario: FakeScenario): { path: string; record: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-fake-criu-'));
  const record = join(dir, 'record.jsonl');
  const path = join(dir, 'criu');
  const script = fileURLToPath(import.meta.url);
  writeFileSync(
    path,
    `#!/bin/sh\nFAKE_CRIU_SCENARIO='${scenario}' FAKE_CRIU_RECORD='${record}' exec '${process.execPath}' '${script}' "$@"\n`,
  );
  chmodSync(path, 0o755);
  return { path, record, dir };
}

/** The requests and NOTIFY replies the fake received, in order. */
export function readRecord(record: string): CriuRequest[] {
  if (!existsSync(record)) return [];
  return readFileSync(record, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CriuRequest);
}

const FD = 3;

function send(resp: CriuResponse, fds?: number[]): void {
  sendPacket(FD, encodeCriuResponse(resp), fds);
}

function recv(): CriuRequest | null {
  const p = recvPacket(FD, true);
  if (p === null || p === 'again') return null;
  const req = decodeCriuRequest(p.data);
  if (process.env.FAKE_CRIU_RECORD) appendFileSync(process.env.FAKE_CRIU_RECORD, `${JSON.stringify(req)}\n`);
  return req;
}

/** Sends a NOTIFY and returns the client's notify_success. */
function notify(script: string, pid?: number, fds?: number[]): boolean {
  send({ type: 'NOTIFY', success: true, notify: pid === undefined ? { script } : { script, pid } }, fds);
  const reply = recv();
  if (!reply || reply.type !== 'NOTIFY') process.exit(9);
  return reply.notify_success === true;
}

/** Writes a CRIU-like log into the client's images dir, reopened through /proc as CRIU does. */
function writeLog(req: CriuRequest, text: string): void {
  const fd = req.opts?.images_dir_fd;
  if (fd === undefined || fd < 0 || !req.opts?.log_file) return;
  writeFileSync(`/proc/${process.ppid}/fd/${fd}/${req.opts.log_file}`, text);
}

function main(): void {
  const scenario = process.env.FAKE_CRIU_SCENARIO as FakeScenario;
  if (process.argv[2] !== 'swrk' || process.argv[3] !== '3') process.exit(2);
  for (;;) {
    const req = recv();
    if (!req) process.exit(0);
    switch (scenario) {
      case 'version':
        if (req.type === 'VERSION') send({ type: 'VERSION', success: true, version: { major_number: 4, minor_number: 2, sublevel: 1 } });
        else if (req.type === 'FEATURE_CHECK') send({ type: req.type, success: true, features: { mem_track: false, lazy_pages: true } });
        else send({ type: req.type, success: true });
        break;
      case 'large':
        send({ type: 'VERSION', success: true, version: { major_number: 4, minor_number: 2, name: 'x'.repeat(150_000) } });
        break;
      case 'notify': {
        const a = notify('pre-dump');
        const b = notify('post-dump', 42);
        const nul = openSync('/dev/null', 'r');
        const c = notify('orphan-pts-master', undefined, [nul]);
        closeSync(nul);
        const ok = a && b && c;
        send(ok ? { type: req.type, success: true, dump: { restored: false } } : { type: req.type, success: false, cr_errmsg: 'notify failed' });
        break;
      }
      case 'fail':
        writeLog(
          req,
          "Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n" +
            'Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 4242 (No such process)\n' +
            'Error (compel/src/lib/infect.c:417): Unable to detach from 4242: No such process\n' +
            'Error (criu/cr-dump.c:1975): Dumping FAILED.\n',
        );
        send({
          type: req.type,
          success: false,
          cr_errno: 3,
          cr_errmsg: "Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n",
        });
        break;
      case 'truncated': {
        const full = encodeCriuResponse({ type: 'VERSION', success: true, version: { major_number: 4, minor_number: 2, name: 'abcdefgh' } });
        sendPacket(FD, full.subarray(0, full.length - 4));
        break;
      }
      case 'garbage':
        sendPacket(FD, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]));
        break;
      case 'exit-early':
        process.stderr.write('fake criu: giving up\n');
        process.exit(7);
        break;
      case 'mismatch':
        send({ type: 'CHECK', success: true });
        break;
      case 'hang':
        setInterval(() => {}, 1000);
        return;
      case 'pre-dump':
        send({ type: req.type, success: true });
        if (req.type === 'DUMP') process.exit(0);
        continue;
    }
    if (!req.keep_open) process.exit(0);
  }
}

if (process.env.FAKE_CRIU_SCENARIO && process.argv[1] === fileURLToPath(import.meta.url)) main();
