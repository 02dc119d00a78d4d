// Imported first by the snapshot's entry: while the snapshot is built, cryo's modules initialise
// with process.env and randomness unreadable, so none can freeze a build-time value into every
// later command (the build fails, naming the module). snapshot.ts lifts the guard when done.
import { startupSnapshot } from 'node:v8';

let lift: (() => void) | undefined;

if (startupSnapshot.isBuildingSnapshot()) {
  const env = process.env;
  const random = Math.random;
  const refuse = (what: string) => (): never => {
    throw new Error(`${what} was read while cryo's modules were loaded into the start-up snapshot: compute it when a command runs`);
  };
  Object.defineProperty(process, 'env', { get: refuse('process.env'), configurable: true, enumerable: true });
  Math.random = refuse('Math.random');
  lift = () => {
    Object.defineProperty(process, 'env', { value: env, writable: true, configurable: true, enumerable: true });
    Math.random = random;
  };
}

/** Makes process.env and Math.random readable again (a no-op outside the snapshot build). */
export function liftSnapshotGuard(): void {
  lift?.();
  lift = undefined;
}
