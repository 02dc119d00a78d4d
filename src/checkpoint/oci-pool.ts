// At most `width` requests in flight, results taken in order: registry round trips overlap while
// files are still written front to back.

/** Runs `work` over `items` with at most `width` at a time, handing each result to `take` in order. */
export async function forEachOrdered<T, R>(items: T[], width: number, work: (item: T, i: number) => Promise<R>, take: (r: R, i: number) => Promise<void> | void): Promise<void> {
  const inflight: Promise<R>[] = [];
  let next = 0;
  const launch = () => {
    const i = next++;
    const p = work(items[i], i);
    // a failure surfaces when its turn comes; the others must not be unhandled meanwhile
    p.catch(() => {});
    inflight.push(p);
  };
  while (next < items.length && inflight.length < width) launch();
  for (let i = 0; i < items.length; i++) {
    const r = await inflight.shift()!;
    if (next < items.length) launch();
    await take(r, i);
  }
}
