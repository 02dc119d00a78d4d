// The registry layout's pure parts: content-defined cuts that survive an insertion, chunk blobs
// that round-trip (sealed too) and are equal for equal content, references, auth challenges.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { cutChunks, decodeChunk, deriveChunkKeys, encodeChunk, MAX_CHUNK, MIN_CHUNK } from '../../src/checkpoint/oci-chunks.js';
import { parseChallenge } from '../../src/checkpoint/oci-client.js';
import { formatOciRef, parseOciRef } from '../../src/checkpoint/oci-ref.js';
import { CryoError } from '../../src/errors.js';

test('cuts cover the input within the size bounds, and an inserted page moves only nearby cuts', () => {
  const a = randomBytes(8 << 20);
  const cuts = cutChunks(a);
  assert.equal(cuts[0][0], 0);
  assert.equal(cuts.at(-1)![1], a.length);
  for (let i = 0; i < cuts.length; i++) {
    const [s, e] = cuts[i];
    if (i > 0) assert.equal(s, cuts[i - 1][1]);
    assert.ok(e - s <= MAX_CHUNK && (e - s >= MIN_CHUNK || i === cuts.length - 1));
  }
  const b = Buffer.concat([a.subarray(0, 3 << 20), randomBytes(4096), a.subarray(3 << 20)]);
  const ka = new Set(cutChunks(a).map(([s, e]) => a.subarray(s, e).toString('base64')));
  const cb = cutChunks(b);
  const shared = cb.filter(([s, e]) => ka.has(b.subarray(s, e).toString('base64'))).length;
  assert.ok(shared >= cb.length - 3, `only ${shared} of ${cb.length} chunks survived a one-page insertion`);
});

test('chunks round-trip, sealed ones too; equal chunks give equal blobs; damage and wrong lengths are refused', async () => {
  const data = Buffer.concat([Buffer.alloc(100_000), randomBytes(50_000)]);
  const plainBlob = await encodeChunk(data);
  assert.ok((await decodeChunk(plainBlob, data.length, undefined, 'c')).equals(data));
  // chunks of the largest size decompress into exactly one full output buffer of zstd.ts
  for (const big of [randomBytes(MAX_CHUNK), Buffer.concat([randomBytes(MAX_CHUNK / 4), Buffer.alloc(MAX_CHUNK * 3 / 4)])]) {
    assert.ok((await decodeChunk(await encodeChunk(big), big.length, undefined, 'big')).equals(big));
  }
  const keys = deriveChunkKeys({ kind: 'key', bytes: randomBytes(32) }, 'localhost:5000', 'app');
  const s1 = await encodeChunk(data, keys);
  const s2 = await encodeChunk(data, keys);
  assert.ok(s1.equals(s2), 'deterministic sealing keeps dedup');
  assert.ok((await decodeChunk(s1, data.length, keys, 'c')).equals(data));
  const bad = Buffer.from(s1);
  bad[20] ^= 1;
  await assert.rejects(decodeChunk(bad, data.length, keys, 'c'), (e: unknown) => e instanceof CryoError && e.exitCode === 4);
  await assert.rejects(decodeChunk(plainBlob, data.length - 1, undefined, 'c'), (e: unknown) => e instanceof CryoError && e.exitCode === 4);
  const other = deriveChunkKeys({ kind: 'key', bytes: randomBytes(32) }, 'localhost:5000', 'app');
  await assert.rejects(decodeChunk(s1, data.length, other, 'c'), (e: unknown) => e instanceof CryoError && e.exitCode === 4);
});

test('references: loopback is plain HTTP, others need --insecure; bad ones are usage errors', () => {
  const r = parseOciRef('oci://localhost:5000/team/app:warm');
  assert.deepEqual(r, { registry: 'localhost:5000', repository: 'team/app', reference: 'warm', insecure: true });
  assert.equal(formatOciRef(r), 'oci://localhost:5000/team/app:warm');
  assert.equal(parseOciRef('oci://registry.example.invalid/app').insecure, false);
  assert.equal(parseOciRef('oci://registry.example.invalid/app', true).insecure, true);
  assert.equal(parseOciRef(`oci://127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`).reference, `sha256:${'a'.repeat(64)}`);
  for (const bad of ['oci://localhost:5000', 'oci://localhost/App', 'oci://localhost/app:', 'oci://h/a b']) {
    assert.throws(() => parseOciRef(bad), (e: unknown) => e instanceof CryoError && e.exitCode === 2, bad);
  }
});

test('auth challenges are parsed into scheme and parameters', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.invalid/token",service="reg",scope="repository:app:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.invalid/token', service: 'reg', scope: 'repository:app:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
});
