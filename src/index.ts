export { CryoError, ExitCode } from './errors.js';
export { explainFailure, type Explanation, type ExplainInput, type CriuAction } from './criu/explain.js';
export {
  criuCall,
  openCriu,
  openDumpSession,
  openDirFd,
  getCriuVersion,
  checkCriu,
  checkCriuFeatures,
  criuFailure,
  describeErrno,
  CriuConnection,
  CriuDumpSession,
  type CriuPath,
  type CriuCallOptions,
  type RequestOptions,
  type OpenCriuOptions,
  type CriuExit,
  type CriuCheckResult,
  type CriuFailureDetails,
} from './criu/rpc/index.js';
export type * from './criu/rpc/types.js';
export { readCriuLog, parseCriuLog, firstErrors, isHarmlessLogLine, type CriuLog } from './criu/log.js';
export { run, type RunOptions, type RunResult } from './kernel/run.js';
export { dump, readMeta, classifyDir, MARKER, type DumpOptions, type DumpResult, type CheckpointMeta } from './criu/dump.js';
export { restore, assertCheckpoint, checkpointPids, type RestoreOptions, type RestoreResult } from './criu/restore.js';
export { readStats, type DumpStats, type RestoreStats } from './criu/stats.js';
export { detectNetworkLock, parsePid, parseSize, type CommonCriuOptions, type NetworkLock, type CgroupMode } from './criu/options.js';
export { resolveDumpTarget, type DumpTarget } from './kernel/process.js';
export { readImage, writeImage, decodeImage, encodeImage, iterateEntries, iterateImage, imageToJson, imageFromJson, parseJson, stringifyJson, MAGICS, isRawImageName, UNKNOWN_FIELDS, type Image, type Entry, type DecodeOptions, type JsonOptions, type ImageHeader, type ByteSource } from './images/index.js';
export { preflight, type PreflightReport, type PreflightIssue, type PreflightProcess, type PreflightOptions } from './preflight/index.js';
export * from './archive/index.js';
export * from './inspect/index.js';
