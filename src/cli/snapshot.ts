// The entry of the one-file bundle (dist/snapshot/cryo.cjs, scripts/build.mjs) and of the V8
// start-up snapshot built from it: a command started from the snapshot finds cryo's modules already
// loaded. Nothing here (or in any module) may compute state from the environment at load time: it
// would be frozen into the snapshot. The launcher (bin/cryo) passes the blob by absolute path.
// first: the modules below initialise under its guard
import { liftSnapshotGuard } from './snapshot-guard.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startupSnapshot } from 'node:v8';
import { exitWhenIdle, main } from './program.js';

/**
 * Points the bundle's run-time lookups at the package holding `snapshotDir` (dist/snapshot):
 * `__cryoRequire` (koffi, a native addon, is required through it) and `__cryoImportMetaUrl` (what
 * `import.meta.url` of a module in dist/src/cli/ would be: the bundle's define).
 */
function locatePackage(snapshotDir: string): void {
  // made at first use: most commands need neither (a millisecond each)
  let req: NodeRequire | undefined;
  let url: string | undefined;
  Object.defineProperty(globalThis, '__cryoRequire', {
    get: () => (req ??= createRequire(join(snapshotDir, 'cryo.cjs'))),
    configurable: true,
  });
  // dist/src/cli/x.js: '../../proto' is dist/proto and '../../../package.json' the package's
  Object.defineProperty(globalThis, '__cryoImportMetaUrl', {
    get: () => (url ??= pathToFileURL(join(snapshotDir, '..', 'src', 'cli', 'snapshot.js')).href),
    configurable: true,
  });
}

/** Runs the CLI on `args` (the words after the program) and sets the exit status. */
async function runCli(args: string[]): Promise<void> {
  exitWhenIdle(await main([process.execPath, 'cryo', ...args]));
}

// every module above initialised under the guard; nothing else runs at build time (measured:
// also loading every command and running commander then gave no faster start, 87-90 ms both ways)
liftSnapshotGuard();
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(() => {
    const i = process.execArgv.indexOf('--snapshot-blob');
    const blob = i === -1 ? undefined : process.execArgv[i + 1];
    if (!blob?.startsWith('/')) {
      process.stderr.write('cryo: error: started from a snapshot without its absolute path\nhint: run cryo through its launcher (bin/cryo)\n');
      process.exitCode = 3;
      return;
    }
    locatePackage(dirname(blob));
    void runCli(process.argv.slice(1));
  });
} else {
  // `node dist/snapshot/cryo.cjs ARGS`: the bundle without a snapshot
  locatePackage(dirname(process.argv[1]!));
  void runCli(process.argv.slice(2));
}
