// CRIU's RPC client: `criu swrk 3` over a SOCK_SEQPACKET socketpair, one criu_req / criu_resp per packet.
//
// API (plain objects with rpc.proto's field names; types in types.ts):
//   criuCall(criu, req, {hooks, signal, timeoutMs, imagesDir, logDir, logFile, errorCode, what})
//       one request on a fresh CRIU: spawns swrk, sends req, answers NOTIFYs through hooks until the
//       final answer, reaps CRIU. imagesDir/logDir are opened and passed as images_dir_fd /
//       work_dir_fd (CRIU reopens them through /proc/<our pid>/fd/<n>), then closed.
//       Resolves with the criu_resp; a failure answer throws CryoError(errorCode ?? 'RPC') with
//       details {crErrno, crErrmsg, logPath, logErrors}.
//   getCriuVersion(criu) → {version: "4.2.1", major_number, ...}
//   checkCriu(criu, {logDir?}) → {ok, error?}           (CRIU's own `criu check`; error is ENVIRONMENT)
//   checkCriuFeatures(criu, {memTrack, lazyPages, pidfdStore}) → {mem_track, lazy_pages, pidfd_store}
//   openCriu(criu, {stderr, env}) → CriuConnection: request(req, opts) one at a time (keep_open keeps
//       CRIU's loop going), close() reaps CRIU (killing it after a grace period).
//   openDumpSession(criu) → CriuDumpSession: preDump(opts, callOpts)... then dump(opts, callOpts) on
//       one CRIU, as CRIU's pre-dump loop expects.
//   openDirFd(dir) → {fd, close()}: a directory fd for images_dir_fd / work_dir_fd.
//   criuFailure(resp, {code, what, logPath}) / describeErrno(3) → "ESRCH (No such process)".
// Errors: CRIU exiting early → "criu exited before answering the DUMP request (exit status 1): <stderr>";
// an invalid answer or a type mismatch → code 'RPC' (CRIU killed); a missing binary → NO_CRIU.
// Hooks (CriuHooks): onNotify(script, {pid, fd}) plus named hooks (preDump, postDump, preRestore,
// postRestore, networkLock, networkUnlock, setupNamespaces, postSetupNamespaces, preResume, postResume,
// orphanPtsMaster, statusReady). notify_scripts is set only when a hook is given. A hook that throws makes
// cryo answer notify_success=false; the request then fails with the hook's error as cause.
// Cancellation: signal / timeoutMs kill CRIU by pid (SIGKILL), reap it, and reject with CryoError.
//
// Files: failure.ts (errno, failure answers), hooks.ts (NOTIFY), connection.ts (swrk, send/receive,
// close), directories.ts (a request's dir fds and log), one-shot.ts, dump-session.ts, codec.ts, types.ts.
export { criuFailure, describeErrno, type CriuFailureDetails } from './failure.js';
export { CriuConnection, openCriu, type CriuExit, type CriuPath, type OpenCriuOptions, type RequestOptions } from './connection.js';
export { openDirFd, type CriuCallOptions } from './directories.js';
export { checkCriu, checkCriuFeatures, criuCall, getCriuVersion, type CriuCheckResult } from './one-shot.js';
export { CriuDumpSession, openDumpSession } from './dump-session.js';
export { encodeCriuRequest } from './codec.js';
export type * from './types.js';
