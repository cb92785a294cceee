/** Process exit codes used by the master, the agent, the workers and the `app` command. */
export const ExitCode = {
  /** A graceful stop, or a command that did what it was asked. */
  OK: 0,
  /** The cluster failed to start, or stopped because of an error. */
  START_FAILED: 1,
  /** The command line was wrong (unknown flag, bad value). */
  USAGE: 2,
  /** `app status` (and `app reload`): no cluster from that directory with that title runs (as LSB init scripts say it). */
  NOT_RUNNING: 3,
  /** `app stop`, `reload` or `status`: the cluster runs, but this user cannot reach it (another user's, or another environment's). */
  UNREACHABLE: 4,
  /** `app reload`: a new process failed to boot; the old workers keep serving. */
  RELOAD_FAILED: 5,
  /** `app stop`: the cluster stopped, but a process outlived the stop timeout and was killed (its requests in flight were cut). */
  STOP_FORCED: 6,
  /** A child (agent or worker) failed while booting; the master reads why from its boot-error message. */
  BOOT_FAILED: 70,
  /** A child lost its master (the IPC channel closed) and exited on its own. */
  ORPHANED: 110,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
