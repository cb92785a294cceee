/**
 * Every framework error carries a stable `code` (`CLUTCH_ERR_<AREA>_<WHAT>`), listed with its fix in
 * docs/errors.md. The message may change between versions; the code does not. Tests assert codes.
 *
 * `Code` is the union of the codes of the package that makes the error, its `ClutchErrorCode`: here
 * the cluster's by default; @clutch/core and the CLI construct through their own (each package's
 * errors.ts), so a code that is not in the package's registry does not compile. One class for all:
 * `instanceof ClutchError` holds whichever package made the error. An error read back from another
 * process (deserializeError) holds the code it was sent with, of any package: `ClutchError<string>`.
 */
export class ClutchError<Code extends string = ClutchErrorCode> extends Error {
  readonly code: Code;

  // NoInfer: the code is checked against `Code`, never widens it.
  constructor(code: NoInfer<Code>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClutchError';
    this.code = code;
  }
}

/** How a package's errors are made: the one ClutchError class, with the package's codes only. */
export type ClutchErrorClass<Code extends string> = new (code: Code, message: string, options?: { cause?: unknown }) => ClutchError<Code>;

/** The error codes raised by @clutch/cluster. */
export const ClusterErrorCode = {
  /** The agent failed while booting (its error is the cause). */
  AGENT_BOOT_FAILED: 'CLUTCH_ERR_CLUSTER_AGENT_BOOT_FAILED',
  /** A worker failed while booting during the start (its error is the cause). */
  WORKER_BOOT_FAILED: 'CLUTCH_ERR_CLUSTER_WORKER_BOOT_FAILED',
  /** A process exited before it was ready. */
  PROCESS_EXITED: 'CLUTCH_ERR_CLUSTER_PROCESS_EXITED',
  /** A process keeps dying soon after it starts; the master retries with growing delays. */
  CRASH_LOOP: 'CLUTCH_ERR_CLUSTER_CRASH_LOOP',
  /** The HTTP port (or socket path) is taken by another process. */
  PORT_IN_USE: 'CLUTCH_ERR_CLUSTER_PORT_IN_USE',
  /** An exception escaped the master's own code; logged, and the master keeps running. */
  MASTER_UNCAUGHT: 'CLUTCH_ERR_MASTER_UNCAUGHT',
  /** A reload stopped because a new process failed to boot; the old ones keep serving. */
  RELOAD_FAILED: 'CLUTCH_ERR_CLUSTER_RELOAD_FAILED',
  /** A reload was asked for while another one runs (or while the cluster starts or stops). */
  RELOAD_REFUSED: 'CLUTCH_ERR_CLUSTER_RELOAD_REFUSED',
  /** `app scale` asked for a worker count outside 1..maxWorkers. */
  SCALE_OUT_OF_RANGE: 'CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE',
  /** A scale was asked for while the cluster starts, stops or reloads, or while another scale runs (or, down, with reusePort). */
  SCALE_REFUSED: 'CLUTCH_ERR_CLUSTER_SCALE_REFUSED',
  /** A scale up stopped because a new worker failed to boot; the cluster keeps the workers it had. */
  SCALE_FAILED: 'CLUTCH_ERR_CLUSTER_SCALE_FAILED',
  /** `app profile` names a process that does not run (no worker in that slot, no agent). */
  PROFILE_NO_TARGET: 'CLUTCH_ERR_PROFILE_NO_TARGET',
  /** A CPU profile or heap snapshot could not be taken (the inspector failed, the process exited, it took too long). */
  PROFILE_FAILED: 'CLUTCH_ERR_PROFILE_FAILED',
  /** The control directory is not private to this user. */
  CONTROL_UNSAFE: 'CLUTCH_ERR_CONTROL_UNSAFE',
  /** A cluster from this directory with this title is running already. */
  ALREADY_RUNNING: 'CLUTCH_ERR_CONTROL_ALREADY_RUNNING',
  /** No cluster from this directory with this title is running. */
  NOT_RUNNING: 'CLUTCH_ERR_CONTROL_NOT_RUNNING',
  /** A cluster from this directory runs (its pid file says so), but this user cannot reach its control socket. */
  UNREACHABLE: 'CLUTCH_ERR_CONTROL_UNREACHABLE',
  /** (a log line) the control socket (or its directory or lock) was removed while the master ran, and was made again — or could not be. */
  CONTROL_RESTORED: 'CLUTCH_ERR_CONTROL_RESTORED',
  /** (a log line) a process could not read its own figures (memory): out of file descriptors, most often. It goes on. */
  SAMPLE_FAILED: 'CLUTCH_ERR_CLUSTER_SAMPLE_FAILED',
  /** A control request was malformed or named an unknown command. */
  CONTROL_BAD_REQUEST: 'CLUTCH_ERR_CONTROL_BAD_REQUEST',
  /** The cluster was not ready within the start timeout. */
  START_TIMEOUT: 'CLUTCH_ERR_CLUSTER_START_TIMEOUT',
  /** The cluster was asked to stop while it was starting. */
  START_ABORTED: 'CLUTCH_ERR_CLUSTER_START_ABORTED',
  /** An option given to the master is invalid. */
  INVALID_OPTION: 'CLUTCH_ERR_CLUSTER_INVALID_OPTION',
  /** An env file given with `--env-file` is missing or cannot be read (at the start: the start fails; at a reload: the old processes keep serving). */
  ENV_FILE: 'CLUTCH_ERR_CLUSTER_ENV_FILE',
  /** Telemetry is on (CLUTCH_TELEMETRY or the project's `telemetry.enabled`) but `@clutch/telemetry` cannot be found from the project. */
  TELEMETRY_NOT_INSTALLED: 'CLUTCH_ERR_TELEMETRY_NOT_INSTALLED',
  /** CLUTCH_TELEMETRY says neither on nor off. */
  TELEMETRY_INVALID: 'CLUTCH_ERR_TELEMETRY_INVALID',
  /** The framework module does not export startAgent/startWorker. */
  INVALID_FRAMEWORK: 'CLUTCH_ERR_CLUSTER_INVALID_FRAMEWORK',
  /** A child sent the master a message it does not understand. */
  IPC_MALFORMED: 'CLUTCH_ERR_IPC_MALFORMED',
  /** A message named a pid that is not a process of this cluster. */
  UNKNOWN_TARGET: 'CLUTCH_ERR_MESSENGER_UNKNOWN_TARGET',
  /** Two agents in a row died holding this message unacknowledged; it was dropped, not replayed again. */
  DROPPED: 'CLUTCH_ERR_MESSENGER_DROPPED',
  /** The process a request went to exited before it answered. */
  TARGET_EXITED: 'CLUTCH_ERR_MESSENGER_TARGET_EXITED',
  /** Too many messages were waiting in the master for a process that is not ready. */
  QUEUE_FULL: 'CLUTCH_ERR_MESSENGER_QUEUE_FULL',
  /** reusePort was asked for where the platform lacks it (not Linux, or Node older than 22.12). */
  REUSEPORT_UNSUPPORTED: 'CLUTCH_ERR_CLUSTER_REUSEPORT_UNSUPPORTED',
  /** Sticky sessions were asked for with a listening mode where the master does not accept the connections (os, reusePort, a unix socket). */
  STICKY_UNSUPPORTED: 'CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED',
  /** (a log line) a worker sent no heartbeat for the stall timeout: it is taken out of rotation, replaced and killed. */
  WORKER_STALLED: 'CLUTCH_ERR_CLUSTER_WORKER_STALLED',
  /** (a log line) the agent sent no heartbeat for the stall timeout: it is killed and replaced. */
  AGENT_STALLED: 'CLUTCH_ERR_CLUSTER_AGENT_STALLED',
  /** (a log line) log lines could not be written (a full or read-only disk) and were dropped. */
  LOG_WRITE_FAILED: 'CLUTCH_ERR_LOG_WRITE_FAILED',
} as const;

export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** The codes @clutch/cluster raises: what its errors are made with (each package has its own ClutchErrorCode). */
export type ClutchErrorCode = ClusterErrorCode;

/** The shape in which errors cross a process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** The shape of a coded error that crosses a process boundary, built in one place; `Code` as for ClutchError. */
export function codedError<Code extends string = ClutchErrorCode>(code: NoInfer<Code>, message: string): SerializedError {
  return { name: 'ClutchError', code, message };
}

/** Rebuilds an error received from another process, keeping its code and its remote stack. */
export function deserializeError(raw: SerializedError): ClutchError<string> | Error {
  const err = raw.code?.startsWith('CLUTCH_ERR_')
    ? new ClutchError<string>(raw.code, raw.message)
    : Object.assign(new Error(raw.message), raw.code ? { code: raw.code } : {});
  err.name = raw.name;
  if (raw.stack) err.stack = raw.stack;
  return err;
}
