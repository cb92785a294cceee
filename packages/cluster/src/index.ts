export { Master, type ClusterReadyInfo, type MasterState } from './master.js';
export { normalizeOptions, DEFAULTS, type ClusterOptions } from './options.js';
export { ClutchError, ClusterErrorCode, serializeError, deserializeError, type SerializedError } from './errors.js';
export { ExitCode } from './exit-codes.js';
export { createLogger, setUpProcessLogs, logsToFiles, LOG_DIR_ENV, ERROR_LOG, type Logger, type LogLevel, type ProcessRole } from './logger.js';
export { controlSocketPath, type ControlRequest, type ControlResponse } from './control.js';
export { ControlServer, type ControlHandlers } from './control-server.js';
export { sendControl } from './control-client.js';
export type { ReloadOptions, ReloadResult } from './reload.js';
export type { ClusterStatus, ProcessStatus } from './status.js';
export type {
  ChildTransport,
  ClusterPids,
  Framework,
  FrameworkMessage,
  FrameworkStartOptions,
  ListenConfig,
  ProcessInstance,
  WorkerInstance,
} from './framework.js';
export type * from './protocol.js';
export { isMessageTarget } from './protocol.js';
