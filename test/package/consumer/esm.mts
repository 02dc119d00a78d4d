// A user's ES module program against the installed package, compiled with tsc --strict: the
// library's run, dump, restore, readImage and CryoError. Prints one JSON line per step so the test
// can end every tree it started even when a later step fails.
import { readFileSync } from 'node:fs';
import { CryoError, dump, readImage, restore, run } from 'cryo';

const [dir, log, image] = process.argv.slice(2) as [string, string, string];
const say = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const img = readImage(image);
say({ magic: img.magic, entries: img.entries.length });
try {
  readImage(`${dir}.missing/core-1.img`);
  say({ caught: null });
} catch (e) {
  if (!(e instanceof CryoError)) throw e;
  say({ caught: e.code, exitCode: e.exitCode });
}

const started = await run('sh', ['-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done'], { log });
say({ started: started.pid });
while (readFileSync(log, 'utf8').split('\n').length < 4) await sleep(20);
const dumped = await dump(started.pid, dir);
say({ dumped: dumped.pid });
const restored = await restore(dir);
say({ restored: restored.pid, rootPid: restored.rootPid });
