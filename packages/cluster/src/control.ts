/**
 * The local control channel between the `app` command and a running master: a unix socket in a
 * directory only the same OS user can enter (0700, owned by them), named after the project's real
 * path and the cluster's title. No TCP port, and no scanning of processes by name: `app stop` finds
 * exactly the cluster started from that directory with that title. One JSON object per line.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterErrorCode, ClutchError, type SerializedError } from './errors.js';
import { commandOf, isRunning, masterTitle, uidOf } from './proc.js';

export type ControlRequest =
  | { id: number; cmd: 'status' }
  | { id: number; cmd: 'stop'; timeout?: number }
  | { id: number; cmd: 'reload'; workers?: boolean; agent?: boolean }
  | { id: number; cmd: 'scale'; workers: number }
  | { id: number; cmd: 'profile'; target: ProfileTarget; kind: ProfileKind; durationMs?: number };

/** Whose profile `app profile` takes: the master, the agent, or the worker of a slot. */
export type ProfileTarget = 'master' | 'agent' | number;
/** A CPU profile (`.cpuprofile`) or a heap snapshot (`.heapsnapshot`). */
export type ProfileKind = 'cpu' | 'heap';

export type ControlResponse = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: SerializedError };

/** An explicit control directory (it must be yours, 0700); wins over every default. */
export const RUN_DIR_ENV = 'CLUTCH_RUN_DIR';

const myUid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/**
 * Why `dir` is not safe to hold control sockets, or null when it is. A missing one is created
 * 0700. One of Clutch's own names (`clutch-<uid>`, `.clutch/run`) that is yours but too open is
 * closed to 0700; a directory you named (`$CLUTCH_RUN_DIR`) is never changed — it must already
 * be yours and writable by nobody else.
 */
function unsafe(dir: string, ours: boolean): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = lstatSync(dir);
    if (!info.isDirectory()) return 'it is not a directory';
    const uid = myUid();
    if (uid !== null && info.uid !== uid) return `it belongs to uid ${info.uid}, not to you (uid ${uid})`;
    if (ours && (info.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    else if (!ours && (info.mode & 0o022) !== 0) return `others may write in it (mode ${(info.mode & 0o777).toString(8)})`;
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The per-user directory holding every control socket, in the first of these places that is
 * safe: `$CLUTCH_RUN_DIR` (if set, it must be), `$XDG_RUNTIME_DIR/clutch`, `$TMPDIR/clutch-<uid>`,
 * `~/.clutch/run`, and last `$TMPDIR/clutch-<uid>.<random>` (made with mkdtemp, found again by its owner). Anyone can create a name in the shared temp directory before you do; such a
 * directory is passed over (`onSkip` says so), never trusted and never a reason not to start.
 */
export function controlDir(onSkip?: (dir: string, why: string) => void): string {
  const explicit = process.env[RUN_DIR_ENV];
  if (explicit) {
    const why = unsafe(explicit, false);
    if (why) throw new ClutchError(ClusterErrorCode.CONTROL_UNSAFE, `${RUN_DIR_ENV}=${explicit} cannot hold control sockets: ${why}`);
    return explicit;
  }
  const candidates = [
    ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'clutch')] : []),
    join(tmpdir(), `clutch-${myUid() ?? 'user'}`),
    join(homedir(), '.clutch', 'run'),
  ];
  const skipped: string[] = [];
  for (const dir of candidates) {
    const why = unsafe(dir, true);
    if (!why) return dir;
    skipped.push(`${dir} (${why})`);
    onSkip?.(dir, why);
  }
  // Every usual place is taken or unwritable (another user made $TMPDIR/clutch-<uid> first, and
  // there is no writable home): a directory of our own with a name nobody could guess beforehand,
  // found again by whoever of this user looks next (only this user can own such a directory).
  const own = privateTmpDir();
  if (own) return own;
  throw new ClutchError(
    ClusterErrorCode.CONTROL_UNSAFE,
    `No safe directory for control sockets: ${skipped.join('; ')}. Set ${RUN_DIR_ENV} to a directory only you can write`,
  );
}

/** `$TMPDIR/clutch-<uid>.<random>`: the first such directory this user owns and only it may enter, else a new one; null when none can be made. */
function privateTmpDir(): string | null {
  const prefix = `clutch-${myUid() ?? 'user'}.`;
  const uid = myUid();
  try {
    for (const name of readdirSync(tmpdir())
      .filter((n) => n.startsWith(prefix))
      .sort()) {
      const dir = join(tmpdir(), name);
      const info = lstatSync(dir, { bigint: true });
      if (info.isDirectory() && (uid === null || Number(info.uid) === uid) && (Number(info.mode) & 0o077) === 0) return dir;
    }
    // mkdtemp makes it 0700, atomically, under a name it picked: it cannot be someone else's.
    return mkdtempSync(join(tmpdir(), prefix));
  } catch {
    return null;
  }
}

/** The control socket of the cluster started from `baseDir` with `title`. */
export function controlSocketPath(baseDir: string, title: string, onSkip?: (dir: string, why: string) => void): string {
  const id = createHash('sha256')
    .update(`${realpathSync(baseDir)}\0${title}`)
    .digest('hex')
    .slice(0, 24);
  const path = join(controlDir(onSkip), `${id}.sock`);
  // sockaddr_un holds 108 bytes on Linux (104 on macOS).
  if (Buffer.byteLength(path) > 103) {
    throw new ClutchError(
      ClusterErrorCode.CONTROL_UNSAFE,
      `The control socket path ${path} is too long for a unix socket; set ${RUN_DIR_ENV} to a shorter directory`,
    );
  }
  return path;
}

/** `<baseDir>/run/<title>.pid`: the master's pid while it runs, for tools that signal it (logrotate, systemd's PIDFile). */
export function pidFilePath(baseDir: string, title: string): string {
  return join(baseDir, 'run', `${title.replace(/[^\w.-]/g, '_')}.pid`);
}

/** A master that runs, as its pid file shows, but that this user could not reach on the control socket. */
export interface UnreachableMaster {
  pid: number;
  uid: number | null;
}

/**
 * Reads the pid file of the cluster started from `baseDir` with `title`: a running master that shows
 * that cluster's title (a reused pid does not), or null. A pid file no live master stands behind is
 * stale and removed, by whoever finds it.
 */
export function masterFromPidFile(baseDir: string, title: string): UnreachableMaster | null {
  const file = pidFilePath(baseDir, title);
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Not there: nothing runs. There but not ours to read: something may well run — never say "not running".
    if (code !== 'EACCES' && code !== 'EPERM') return null;
    throw new ClutchError(
      ClusterErrorCode.UNREACHABLE,
      `Cannot tell whether the cluster started from ${baseDir} with title ${title} runs: ${file} cannot be read (${code}); run this command as the user who started it`,
      { cause: err },
    );
  }
  const command = commandOf(pid);
  const isOurs = isRunning(pid) && (command === null || command.startsWith(masterTitle(title)));
  if (isOurs) return { pid, uid: uidOf(pid) };
  try {
    rmSync(file, { force: true });
  } catch {
    // Not ours to remove (another user's project): it stays, and stays stale.
  }
  return null;
}
