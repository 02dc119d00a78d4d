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
export { dump, type DumpOptions, type DumpResult, type DumpDestination } from './pipeline/dump.js';
export { restore, type RestoreOptions, type RestoreResult } from './pipeline/restore.js';
export { resume, type ResumeResult } from './pipeline/resume.js';
export { verify, type VerifyResult } from './pipeline/verify.js';
export { startJob, JobHandle, type JobOptions, type JobResult, type JobEvents, type JobCheckpoint, type JobStarted } from './job/job.js';
export { listCheckpoints, type Listing, type ListedCheckpoint } from './job/ls.js';
export { listRegistryCheckpoints, type RegistryListing, type ListedTag } from './job/ls-oci.js';
export { migrate, type MigrateOptions, type MigrateResult, type MigrationEvent, type MigrationMode } from './migrate/migrate.js';
export { receive, type ReceiveOptions, type ReceiveResult } from './migrate/receive.js';
export type { CriuDumpOptions, CriuRestoreOptions } from './criu/options.js';
export type { CheckpointMeta, CheckpointProcess, CheckpointFile, DumpStats, RestoreStats, TreeState } from './checkpoint/meta.js';
export { openCheckpoint, type CheckpointInput } from './checkpoint/open.js';
export type { OpenedCheckpoint, OpenOptions } from './checkpoint/source.js';
export type { CheckpointSink, SinkResult, SinkCommitOptions } from './checkpoint/sink.js';
export { readMeta, MARKER } from './checkpoint/meta-file.js';
export { assertComplete, classifyDir, type DirKind } from './checkpoint/complete.js';
export { readStats, type CheckpointStats } from './checkpoint/stats.js';
export { readPstree, type PstreeEntry } from './checkpoint/pstree.js';
export { detectNetworkLock, parsePid, parseSize, toRpcOpts, restoreOptionsFromDump, CRIU_OPTIONS, type NetworkLock, type CgroupMode, type CriuOptionSpec } from './criu/options.js';
export { resolveDumpTarget, type DumpTarget } from './kernel/process.js';
export { readImage, writeImage, decodeImage, encodeImage, iterateEntries, iterateImage, imageToJson, imageFromJson, parseJson, stringifyJson, MAGICS, isRawImageName, UNKNOWN_FIELDS, type Image, type Entry, type DecodeOptions, type JsonOptions, type ImageHeader, type ByteSource } from './images/index.js';
export { preflight, type PreflightReport, type PreflightIssue, type PreflightProcess, type PreflightOptions } from './preflight/index.js';
export * from './inspect/index.js';
