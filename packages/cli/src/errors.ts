import { ClutchError } from '@clutch/cluster';

/** The error codes raised by the `app` command. Each is listed with its fix in docs/errors.md. */
export const CliErrorCode = {
  /** The command line names no known command. */
  UNKNOWN_COMMAND: 'CLUTCH_ERR_CLI_UNKNOWN_COMMAND',
  /** A flag the command does not know. */
  UNKNOWN_FLAG: 'CLUTCH_ERR_CLI_UNKNOWN_FLAG',
  /** A flag's value is missing or out of range, or an extra argument was given. */
  BAD_VALUE: 'CLUTCH_ERR_CLI_BAD_VALUE',
  /** The project directory does not exist or is not a directory. */
  NO_PROJECT: 'CLUTCH_ERR_CLI_NO_PROJECT',
  /** @clutch/core could not be found from the project or from the CLI. */
  NO_FRAMEWORK: 'CLUTCH_ERR_CLI_NO_FRAMEWORK',
} as const;

export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/**
 * The codes the `app` command raises: what its errors are made with. (A master it cannot reach is the
 * cluster's CLUTCH_ERR_CONTROL_UNREACHABLE, made with the cluster's codes.)
 */
export type ClutchErrorCode = CliErrorCode;

/** A usage error: the `app` command prints it with the usage and exits with ExitCode.USAGE. */
export class UsageError extends ClutchError<ClutchErrorCode> {
  constructor(code: ClutchErrorCode, message: string) {
    super(code, message);
    this.name = 'UsageError';
  }
}
