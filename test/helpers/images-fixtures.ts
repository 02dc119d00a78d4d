// Real images captured from a dump of test/fixtures/images/tree.c, with crit 4.2.1's JSON for each.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const fixtureDir = new URL('../../../test/fixtures/images/dump/', import.meta.url).pathname;

export interface ImageFixture {
  name: string;
  bytes: Buffer;
  /** crit decode output (with its trailing newline), when crit can read the image */
  critJson?: string;
  critPretty?: string;
}

export function imageFixtures(): ImageFixture[] {
  return readdirSync(fixtureDir)
    .filter((f) => !f.endsWith('.json'))
    .sort()
    .map((name) => {
      const j = join(fixtureDir, `${name}.crit.json`);
      const p = join(fixtureDir, `${name}.crit-pretty.json`);
      return {
        name,
        bytes: readFileSync(join(fixtureDir, name)),
        critJson: existsSync(j) ? readFileSync(j, 'utf8') : undefined,
        critPretty: existsSync(p) ? readFileSync(p, 'utf8') : undefined,
      };
    });
}

/** A small deterministic PRNG (mulberry32) so fuzzing is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The full decode as lean entries should look: safe 64-bit integers as numbers, symbols (unknown fields) gone (lean decoding tests). */
export function toLean(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  if (Array.isArray(v)) return v.map(toLean);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toLean(x);
    return o;
  }
  return v;
}
