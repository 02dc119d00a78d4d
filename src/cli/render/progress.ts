// A progress line on stderr (bytes, rate) for long transfers, drawn only when stderr is a terminal.
import { humanBytes } from './text.js';

export interface ProgressLine {
  /** the library's onProgress callback: bytes done of total */
  update: (bytes: number, total: number) => void;
  /** ends the line (if one was drawn) */
  done(): void;
}

/** "label: 312.0 MiB / 1.0 GiB, 850.3 MiB/s", redrawn at most 5 times a second. */
export function progressLine(label: string, enabled = Boolean(process.stderr.isTTY)): ProgressLine {
  if (!enabled) return { update() {}, done() {} };
  const start = performance.now();
  let lastDraw = 0;
  let drawn = false;
  let bytes = 0;
  let total = 0;
  const draw = () => {
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? bytes / secs : 0;
    process.stderr.write(`\r\x1b[K${label}: ${humanBytes(bytes)}${total ? ` / ${humanBytes(total)}` : ''}, ${humanBytes(Math.round(rate))}/s`);
    drawn = true;
  };
  return {
    update(b, t) {
      bytes = b;
      total = t;
      const now = performance.now();
      if (now - lastDraw >= 200) {
        lastDraw = now;
        draw();
      }
    },
    done() {
      if (drawn) {
        draw();
        process.stderr.write('\n');
      }
    },
  };
}
