export { Master, type ClusterReadyInfo, type MasterState } from './master.js';
export { normalizeOptions, DEFAULTS, type ClusterOptions } from './options.js';
export { ClutchError, ClusterErrorCode, serializeError, deserializeError, type SerializedError } from './errors.js';
export { ExitCode } from './exit-codes.js';
export { createLogger, type Logger, type LogLevel, type ProcessRole } from './logger.js';
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
