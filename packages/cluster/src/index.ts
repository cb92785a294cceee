export { Master, type ClusterReadyInfo, type MasterState, type StopResult } from './master.js';
export { normalizeOptions, DEFAULTS, type ClusterOptions } from './options.js';
export {
  ClutchError,
  ClusterErrorCode,
  codedError,
  serializeError,
  deserializeError,
  type ClutchErrorClass,
  type ClutchErrorCode,
  type SerializedError,
} from './errors.js';
export { ExitCode } from './exit-codes.js';
export {
  createLogger,
  setLogFormat,
  setUpProcessLogs,
  logsToFiles,
  logHealth,
  LOG_DIR_ENV,
  LOG_FORMAT_ENV,
  ERROR_LOG,
  type Logger,
  type LogLevel,
  type LogFormat,
  type LogHealth,
  type ProcessRole,
} from './logger.js';
export { RepeatFilter, type RepeatFilterOptions } from './repeat-filter.js';
export {
  controlSocketPath,
  masterFromPidFile,
  pidFilePath,
  RUN_DIR_ENV,
  type ControlRequest,
  type ProfileKind,
  type ProfileTarget,
  type ControlResponse,
  type UnreachableMaster,
} from './control.js';
export { isRunning, masterTitle } from './proc.js';
export { ControlServer, type ControlHandlers } from './control-server.js';
export { sendControl } from './control-client.js';
export type { ReloadOptions, ReloadResult } from './reload.js';
export type { ScaleResult } from './scaler.js';
export type { ProfileResult } from './profiles.js';
export type { ClusterStatus, ProcessStatus } from './status.js';
export type { RestartReason } from './reload.js';
export type { RestartRecord } from './restart-log.js';
export type {
  ChildTransport,
  ClusterPids,
  ClusterSettings,
  Framework,
  FrameworkMessage,
  FrameworkStartOptions,
  ListenConfig,
  ProcessInstance,
  WorkerInstance,
  ServerLimits,
  OverloadLimits,
  TelemetrySettings,
} from './framework.js';
export type * from './protocol.js';
export type * from './operator-protocol.js';
export { isMessageTarget } from './protocol.js';
