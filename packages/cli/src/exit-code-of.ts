import { ClusterErrorCode, ExitCode } from '@clutch/cluster';

/** The commands that reach a running master. */
export type ControlCommand = 'stop' | 'status' | 'reload' | 'scale' | 'profile';

/**
 * The exit code of a control command that failed, from its error's code: the one table of that
 * mapping (docs/operations.md, "Exit codes"). `app stop` of a cluster that does not run has nothing
 * to do and succeeds, as LSB init scripts' stop does; `status` and `reload` say it with 3.
 */
export function exitCodeOf(err: unknown, command: ControlCommand): ExitCode | null {
  switch ((err as { code?: string }).code) {
    case ClusterErrorCode.NOT_RUNNING:
      return command === 'stop' ? ExitCode.OK : ExitCode.NOT_RUNNING;
    case ClusterErrorCode.UNREACHABLE:
      return ExitCode.UNREACHABLE;
    default:
      // A reload the master refused or could not finish; any other failure of stop/status is the caller's to throw.
      return command === 'reload' ? ExitCode.RELOAD_FAILED : null;
  }
}
