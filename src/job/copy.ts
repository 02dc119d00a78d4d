// Copies a pipe the tree writes into out to a Writable, in order, with backpressure; done at end of file.
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export interface PipeCopy {
  /** settles at end of file (the tree and every copy of the write end closed) */
  done: Promise<void>;
  /** stops reading and closes the read end */
  stop(): void;
}

/** Reads `fd` (a pipe's read end, owned from now on) into `to` (never ended). */
export function copyPipe(fd: number, to: Writable | undefined): PipeCopy {
  const s = new Socket({ fd, readable: true, writable: false });
  const done = new Promise<void>((resolve) => {
    s.on('data', (chunk: Buffer) => {
      if (to && !to.write(chunk)) {
        s.pause();
        to.once('drain', () => s.resume());
      }
    });
    s.once('end', resolve);
    s.once('close', resolve);
    s.once('error', resolve);
  }).finally(() => s.destroy());
  return { done, stop: () => s.destroy() };
}
