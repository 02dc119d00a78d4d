// `cryo ... | head`: a reader that goes away is not an error; stop writing quietly.
let installed = false;

export function ignoreBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  if (installed) return;
  installed = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
