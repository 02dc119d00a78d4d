// Progress on stderr (bytes, rate) for long transfers, only when stderr is a terminal.

export interface Progress {
  add(bytes: number): void;
  done(): void;
}

const quiet: Progress = { add() {}, done() {} };

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * A progress line "label: 312.0 MiB / 1.0 GiB, 850.3 MiB/s" redrawn at most 5 times a second.
 * `enabled` defaults to stderr being a TTY; quiet otherwise.
 */
export function createProgress(label: string, total?: number, enabled = Boolean(process.stderr.isTTY)): Progress {
  if (!enabled) return quiet;
  const start = process.hrtime.bigint();
  let bytes = 0;
  let lastDraw = 0;
  let drawn = false;
  const draw = () => {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    const rate = secs > 0 ? bytes / secs : 0;
    const of = total ? ` / ${humanBytes(total)}` : '';
    process.stderr.write(`\r\x1b[K${label}: ${humanBytes(bytes)}${of}, ${humanBytes(rate)}/s`);
    drawn = true;
  };
  return {
    add(n: number) {
      bytes += n;
      const now = Date.now();
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
