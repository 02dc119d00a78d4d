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
} from './criu/rpc.js';
export type * from './criu/rpc-types.js';
export { readCriuLog, parseCriuLog, firstErrors, isHarmlessLogLine, type CriuLog } from './criu/log.js';
