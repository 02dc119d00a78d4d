// cryo's RPC codec against protobufjs's reflection encoder on the same rpc.proto: the bytes CRIU gets are
// the same, and what CRIU answers decodes to the same objects.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { decodeCriuRequest, decodeCriuResponse, encodeCriuRequest, encodeCriuResponse } from '../../src/criu/rpc/codec.js';
import type { CriuRequest, CriuResponse } from '../../src/criu/rpc/types.js';

const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(new URL('../../proto/rpc.json', import.meta.url), 'utf8')));
const Req = root.lookupType('criu_req');
const Resp = root.lookupType('criu_resp');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const requests: CriuRequest[] = [
  { type: 'VERSION' },
  { type: 'NOTIFY', notify_success: true },
  { type: 'FEATURE_CHECK', features: { mem_track: true, lazy_pages: true, pidfd_store: true } },
  {
    type: 'DUMP',
    opts: {
      images_dir_fd: 7, pid: 4242, leave_running: true, ext_unix_sk: true, tcp_established: true, shell_job: true,
      file_locks: true, log_level: 4, log_file: 'dump.log', notify_scripts: true, work_dir_fd: 8, link_remap: true,
      manage_cgroups: true, manage_cgroups_mode: 'SOFT', ghost_limit: 1 << 30, external: ['unix[123]', 'mnt[/x]:y'],
      network_lock: 'NFTABLES', ext_mnt: [{ key: '/a', val: 'b' }], inherit_fd: [{ key: 'pipe:[1]', fd: 3 }],
    },
  },
  // images_dir_fd is required by rpc.proto: left out, it goes as its default (-1) as protobufjs sends it
  { type: 'RESTORE', opts: { images_dir: '/tmp/ckpt', rst_sibling: true, log_level: 2 } },
];

test('requests encode to the bytes protobufjs writes, and decode back', () => {
  for (const req of requests) {
    const ours = encodeCriuRequest(req);
    assert.equal(hex(ours), hex(Req.encode(Req.fromObject(req)).finish()), req.type);
    const back = decodeCriuRequest(ours);
    assert.deepEqual(back, Req.toObject(Req.decode(ours), { enums: String, longs: Number, defaults: false }), req.type);
  }
  assert.equal(decodeCriuRequest(encodeCriuRequest(requests[4])).opts?.images_dir_fd, -1);
});

test('answers decode as protobufjs decodes them (enums by name, no defaults)', () => {
  const answers: CriuResponse[] = [
    { type: 'DUMP', success: true, dump: { restored: false } },
    { type: 'RESTORE', success: true, restore: { pid: 31337 } },
    { type: 'NOTIFY', success: true, notify: { script: 'post-dump', pid: 12 } },
    { type: 'DUMP', success: false, cr_errno: 3, cr_errmsg: 'No such process' },
    { type: 'VERSION', success: true, version: { major_number: 4, minor_number: 2, sublevel: 1, gitid: 'abc' } },
    { type: 'FEATURE_CHECK', success: true, features: { mem_track: true, lazy_pages: false } },
  ];
  for (const a of answers) {
    const theirs = Resp.encode(Resp.fromObject(a)).finish();
    assert.deepEqual(decodeCriuResponse(theirs), Resp.toObject(Resp.decode(theirs), { enums: String, longs: Number, defaults: false }));
    assert.equal(hex(encodeCriuResponse(a)), hex(theirs));
  }
});

test('bad requests are usage errors naming the field; bad answers throw', () => {
  assert.throws(() => encodeCriuRequest({ type: 'DUMP', opts: { pidd: 1 } as never }), /unknown criu_opts field "pidd"/);
  assert.throws(() => encodeCriuRequest({ type: 'DUMPP' as 'DUMP' }), /expected a criu_req_type name, got "DUMPP"/);
  assert.throws(() => encodeCriuRequest({ type: 'DUMP', opts: { network_lock: 'PF' as 'SKIP' } }), /expected a criu_network_lock_method name, got "PF"/);
  assert.throws(() => encodeCriuRequest({ type: 'DUMP', opts: { pid: 'x' as unknown as number } }), /invalid CRIU request: .*pid: expected an integer/);
  const good = encodeCriuResponse({ type: 'RESTORE', success: true, restore: { pid: 5 } });
  assert.throws(() => decodeCriuResponse(good.subarray(0, good.length - 1)));
  assert.throws(() => decodeCriuResponse(Buffer.from([0x08]))); // a key without its value
  assert.throws(() => decodeCriuResponse(Buffer.from([0x10, 0x01]))); // the required type is missing
});
