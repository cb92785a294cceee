/** Process exit codes used by the master, the agent, the workers and the `app` command. */
export const ExitCode = {
  /** A graceful stop, or a command that did what it was asked. */
  OK: 0,
  /** The cluster failed to start, or stopped because of an error. */
  START_FAILED: 1,
  /** The command line was wrong (unknown flag, bad value). */
  USAGE: 2,
  /** A child (agent or worker) failed while booting. */
  BOOT_FAILED: 3,
  /** `app stop`, `reload` or `status`: the cluster runs, but this user cannot reach it (another user's, or another environment's). */
  UNREACHABLE: 4,
  /** A child lost its master (the IPC channel closed) and exited on its own. */
  ORPHANED: 110,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
