import { ClusterErrorCode, ClutchError, controlSocketPath, masterFromPidFile, sendControl, type ControlRequest } from '@clutch/cluster';

type Command = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id'> : never) : never;

/**
 * Sends a command to the master of the cluster started from `baseDir` with `title`. When no master
 * answers on the control socket, the project's pid file decides what that means: no running
 * master behind it is CLUTCH_ERR_CONTROL_NOT_RUNNING; a running one that this user cannot reach (it
 * is another user's, or was started with another TMPDIR or XDG_RUNTIME_DIR) is
 * CLUTCH_ERR_CONTROL_UNREACHABLE — never "not running", which a deploy script would take for stopped.
 */
export async function askMaster(baseDir: string, title: string, command: Command, timeoutMs: number): Promise<unknown> {
  let path: string | undefined;
  const me = typeof process.getuid === 'function' ? process.getuid() : null;
  // A master of ours whose socket vanished (a tmp cleaner) makes it again within a second: wait that long.
  const retryUntil = Date.now() + RESTORE_WAIT_MS;
  for (;;) {
    try {
      path = controlSocketPath(baseDir, title);
      return await sendControl(path, command, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== ClusterErrorCode.NOT_RUNNING && code !== 'EACCES' && code !== ClusterErrorCode.CONTROL_UNSAFE) throw err;
      const master = masterFromPidFile(baseDir, title);
      if (!master) throw err;
      if (code === ClusterErrorCode.NOT_RUNNING && master.uid === me && Date.now() < retryUntil) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw unreachable(baseDir, title, path, master, me, err);
    }
  }
}

/** How long a command waits for a running master of this user to make its vanished control socket again, ms. */
const RESTORE_WAIT_MS = 3_000;

function unreachable(
  baseDir: string,
  title: string,
  path: string | undefined,
  master: { pid: number; uid: number | null },
  me: number | null,
  err: unknown,
): ClutchError {
  const why =
    master.uid !== null && me !== null && master.uid !== me
      ? `it runs as uid ${master.uid} and you are uid ${me}: run this command as the user who started it`
      : `its control socket ${path ?? '(none)'} does not answer: run this command with the environment it was started with (TMPDIR, XDG_RUNTIME_DIR, CLUTCH_RUN_DIR), or it is stuck`;
  return new ClutchError(ClusterErrorCode.UNREACHABLE, `The cluster started from ${baseDir} with title ${title} runs (master ${master.pid}), but ${why}`, {
    cause: err,
  });
}
