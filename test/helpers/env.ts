// Where integration tests find real CRIU and crit, and the CI rule: skip locally, fail in CI.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { findCriu, type CriuBinary } from '../../src/criu/find.js';

export const inCI = process.env.CI === 'true';

/** Skip (locally) or fail (CI) the test, with a reason. Returns false when the test must stop. */
export function requireOrSkip(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (inCI) throw new Error(`required in CI: ${reason}`);
  t.skip(reason);
  return false;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** A working criu for integration tests, or undefined (after skipping/failing `t`). */
export function criuFor(t: TestContext): CriuBinary | undefined {
  if (!requireOrSkip(t, isRoot(), 'integration tests need root')) return undefined;
  try {
    return findCriu();
  } catch (e) {
    requireOrSkip(t, false, `no working CRIU (${(e as Error).message}); run \`cryo setup\``);
    return undefined;
  }
}

/** crit (CRIU's Python image tool) for differential tests: $CRYO_CRIT or what `cryo setup --crit` provisioned. */
export function findCrit(): string | undefined {
  if (process.env.CRYO_CRIT) return process.env.CRYO_CRIT;
  const base = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cryo');
  if (!existsSync(base)) return undefined;
  const dirs = readdirSync(base).filter((n) => n.startsWith('crit-')).sort().reverse();
  for (const d of dirs) {
    const p = join(base, d, 'bin', 'crit');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function critFor(t: TestContext): string | undefined {
  const crit = findCrit();
  return requireOrSkip(t, crit !== undefined, 'crit is not provisioned; run `cryo setup --crit`') ? crit : undefined;
}
