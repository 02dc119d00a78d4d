export { CryoError, ExitCode } from './errors.js';
export { explainFailure, type Explanation, type ExplainInput, type CriuAction } from './criu/explain.js';
