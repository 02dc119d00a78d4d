// Fuzz: thousands of mutated real images (deterministic seed). Decoding either works or throws
// CryoError BAD_IMAGE (lean decoding the same); whatever decodes also renders as JSON (plain and pretty)
// and encodes again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { decodeImage, encodeImage, imageFromJson, imageToJson } from '../../src/images/index.js';
import { transcodeToJson } from '../../src/images/transcode.js';
import { imageFixtures, prng } from '../helpers/images-fixtures.js';

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 6);
  const at = Math.floor(rnd() * b.length);
  switch (kind) {
    case 0: { // flip a few bits
      const n = 1 + Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) { const p = Math.floor(rnd() * b.length); b[p] ^= 1 << Math.floor(rnd() * 8); }
      return b;
    }
    case 1: return b.subarray(0, at); // truncate
    case 2: { // random bytes over a range
      const n = Math.min(b.length - at, 1 + Math.floor(rnd() * 16));
      for (let i = 0; i < n; i++) b[at + i] = Math.floor(rnd() * 256);
      return b;
    }
    case 3: // interesting values into what may be a size or varint
      b.writeUInt32LE([0, 0x7fffffff, 0xffffffff, 0x80000000, 1, 0xffff][Math.floor(rnd() * 6)], Math.max(0, Math.min(at, b.length - 4)));
      return b;
    case 4: return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), b.subarray(at)]);
    default: return Buffer.concat([b, b.subarray(8, 8 + Math.floor(rnd() * 64))]); // duplicate entries
  }
}

describe('fuzz', () => {
  it('mutated images decode or fail with BAD_IMAGE, never crash', () => {
    const rnd = prng(0xc0ffee);
    const fixtures = imageFixtures();
    const iterations = 20000;
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < iterations; i++) {
      const fx = fixtures[i % fixtures.length];
      const input = mutate(fx.bytes, rnd);
      let img;
      const direct = transcodeToJson(input, { name: fx.name, maxEntrySize: 1 << 20, pretty: i % 2 === 1 });
      let lean: Error | undefined;
      try {
        decodeImage(input, { name: fx.name, maxEntrySize: 1 << 20, maxPayloadSize: 1 << 20, lean: true });
      } catch (e) {
        lean = e as Error;
      }
      try {
        img = decodeImage(input, { name: fx.name, maxEntrySize: 1 << 20, maxPayloadSize: 1 << 20 });
        assert.equal(lean, undefined, `iteration ${i} (${fx.name}): lean decoding refused what full decoding accepts`);
        // where the direct path answers, it answers what decode-then-render does
        if (direct) assert.equal(direct.toString('latin1'), imageToJson(img, { pretty: i % 2 === 1 }), `iteration ${i} (${fx.name}): direct JSON differs`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.equal(direct, undefined, `iteration ${i} (${fx.name}): the direct path accepted what decoding refuses`);
        // lean decoding refuses the same input with the same message
        assert.equal(lean?.message, (e as Error).message, `iteration ${i} (${fx.name}): lean decoding differs`);
        if (!(e instanceof CryoError) || e.code !== 'BAD_IMAGE') {
          assert.fail(`iteration ${i} (${fx.name}): ${e instanceof Error ? e.stack : e}`);
        }
        assert.ok(!e.message.includes('\n'));
        rejected++;
        continue;
      }
      decoded++;
      try {
        const plain = imageToJson(img);
        imageToJson(img, { pretty: true });
        const again = encodeImage(img);
        // what decoded cleanly re-encodes to bytes that decode to the same entries
        assert.deepEqual(decodeImage(again, { name: fx.name }).entries.length, img.entries.length);
        try {
          encodeImage(imageFromJson(plain));
        } catch (e) {
          // JSON drops what it cannot name (unknown enum values, unknown fields): only a schema complaint may follow
          if (!(e instanceof CryoError)) throw e;
        }
      } catch (e) {
        assert.fail(`iteration ${i} (${fx.name}) after decoding: ${e instanceof Error ? e.stack : e}`);
      }
    }
    assert.ok(decoded > 100 && rejected > 100, `decoded ${decoded}, rejected ${rejected}`);
  });

  it('mutated JSON encodes or fails with BAD_IMAGE, never crashes', () => {
    const rnd = prng(0xbadc0de);
    const texts = imageFixtures().flatMap((f) => (f.critJson ? [f.critJson, f.critPretty!] : []));
    const alphabet = '{}[]":,0123456789-xabcdefINFinity.e "\\\n';
    let encoded = 0;
    for (let i = 0; i < 3000; i++) {
      const src = texts[i % texts.length];
      const chars = [...src];
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n; k++) {
        const at = Math.floor(rnd() * chars.length);
        const op = Math.floor(rnd() * 3);
        const c = alphabet[Math.floor(rnd() * alphabet.length)];
        if (op === 0) chars[at] = c;
        else if (op === 1) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      try {
        encodeImage(imageFromJson(chars.join(''), 'fuzz.json'));
        encoded++;
      } catch (e) {
        if (!(e instanceof CryoError) || e.code !== 'BAD_IMAGE') assert.fail(`iteration ${i}: ${e instanceof Error ? e.stack : e}`);
      }
    }
    assert.ok(encoded > 50, `only ${encoded} mutated texts encoded`);
  });
});
