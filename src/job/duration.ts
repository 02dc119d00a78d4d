// Durations as job systems write them: 500ms, 5s, 10m, 2h, 1.5s; a bare number is seconds.
import { CryoError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5s" -> 5000; throws USAGE on anything else or on zero. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : NaN;
  if (!(ms >= 1)) throw new CryoError('USAGE', `expected a duration such as 30s, 10m or 500ms, got '${text}'`, { hint: 'units: ms, s, m, h (a bare number is seconds)' });
  return Math.round(ms);
}
