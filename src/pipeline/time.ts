/** Milliseconds since `t0` (a performance.now() value), rounded to 0.1: the one rounding of every ...Ms. */
export function elapsedMs(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
