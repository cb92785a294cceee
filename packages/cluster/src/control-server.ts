import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { type ControlRequest, type ControlResponse, type ProfileKind, type ProfileTarget } from './control.js';
import { ClusterErrorCode, ClutchError, serializeError } from './errors.js';
import type { Logger } from './logger.js';
import { isRunning, startTimeOf } from './proc.js';
import type { ReloadOptions } from './reload.js';

/** What the master does for each control command. */
export interface ControlHandlers {
  status(): Promise<unknown>;
  /** Stops the cluster; the reply is sent once every child is gone, then `afterStop` runs. */
  stop(timeout: number | undefined): Promise<unknown>;
  reload(options: ReloadOptions): Promise<unknown>;
  /** Runs this many workers from now on. */
  scale(workers: number): Promise<unknown>;
  /** A CPU profile or heap snapshot of one process, as text. */
  profile(target: ProfileTarget, kind: ProfileKind, durationMs: number | undefined): Promise<unknown>;
  /** Runs once the stop reply is flushed (the master exits there). */
  afterStop(): void;
}

/** What a lock file holds: the master's pid and its start time, which together name one process for good. */
interface LockOwner {
  pid: number;
  start: number | null;
}

function readOwner(file: string): LockOwner | null {
  try {
    const raw = readFileSync(file, 'utf8').trim();
    // Older masters wrote the bare pid.
    const owner = raw.startsWith('{') ? (JSON.parse(raw) as LockOwner) : { pid: Number(raw), start: null };
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Creates the lock file exclusively. One whose master is gone — dead, a zombie nobody reaps, or its
 * pid now another process's — is taken over. The takeover renames the stale file aside first and
 * checks that what it moved is what it judged stale, so two starters racing over one stale lock
 * cannot both win.
 */
function takeLock(lock: string): string {
  const mine = JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid) } satisfies LockOwner);
  // Written whole under a name of its own, then linked into place: the lock never exists empty,
  // so a racing starter never reads a half-written one and takes it for stale.
  const draft = `${lock}.${process.pid}.new`;
  writeFileSync(draft, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(draft, lock);
        return mine;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      takeOver(lock);
    }
  } finally {
    try {
      unlinkSync(draft);
    } catch {
      // Gone already.
    }
  }
  throw new ClutchError(ClusterErrorCode.ALREADY_RUNNING, `Another master is taking the lock ${lock} right now`);
}

/** Moves a stale lock out of the way; throws ALREADY_RUNNING when its master lives. */
function takeOver(lock: string): void {
  const owner = readOwner(lock);
  if (owner && owner.pid !== process.pid && isRunning(owner.pid, owner.start)) {
    throw new ClutchError(
      ClusterErrorCode.ALREADY_RUNNING,
      `A cluster started from this directory with this title is running already (master ${owner.pid}; lock ${lock})`,
    );
  }
  const aside = `${lock}.${process.pid}.stale`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // Someone else moved it first: look again.
  }
  const moved = readOwner(aside);
  // Both unreadable counts as the same: a lock from before locks were written whole.
  if (moved?.pid !== owner?.pid || moved?.start !== owner?.start) {
    // A racing starter's fresh lock: put it back (unless a third took the name; the checks in
    // open() then stop whichever of them lost it).
    try {
      linkSync(aside, lock);
    } catch {
      // The name is taken again; the next look decides.
    }
  }
  unlinkSync(aside);
}

/** True while the lock still holds what this master wrote: a racing starter that took it over by mistake makes this false. */
function stillMine(lock: string, mine: string): boolean {
  try {
    return readFileSync(lock, 'utf8') === mine;
  } catch {
    return false;
  }
}

type Dispatch = { [K in ControlRequest['cmd']]: (request: Extract<ControlRequest, { cmd: K }>) => Promise<unknown> };

function isRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return Number.isSafeInteger(r.id) && (r.cmd === 'status' || r.cmd === 'stop' || r.cmd === 'reload' || r.cmd === 'scale' || r.cmd === 'profile');
}

/** How often the master checks that its socket and lock are still there (a tmp cleaner may remove them), ms. */
const GUARD_MS = 1_000;

/** Listens on `path` (a unix socket only its user may use) and resolves with the server. */
async function listenOn(path: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}

/** The socket file's inode, or null when there is none (bigint: see log-sink.ts on Node 20's stat buffer). */
function inodeOf(path: string): bigint | null {
  try {
    return lstatSync(path, { bigint: true }).ino;
  } catch {
    return null;
  }
}

/** The master's end of the control channel (see control.ts). */
export class ControlServer {
  readonly path: string;
  #server: Server;
  #inode: bigint | null;
  readonly #mine: string;
  readonly #guard: NodeJS.Timeout;
  readonly #logger: Logger;
  readonly #dispatch: Dispatch;
  readonly #afterStop: () => void;

  private constructor(path: string, server: Server, mine: string, handlers: ControlHandlers, logger: Logger) {
    this.path = path;
    this.#server = server;
    this.#inode = inodeOf(path);
    this.#mine = mine;
    this.#logger = logger;
    // A tmp cleaner (systemd-tmpfiles, tmpreaper) may delete the socket or its directory while the
    // cluster runs; without it `app stop`, `reload` and `status` could not reach the master.
    this.#guard = setInterval(() => void this.#restore(), GUARD_MS).unref();
    this.#afterStop = () => handlers.afterStop();
    this.#dispatch = {
      status: () => handlers.status(),
      stop: (r) => handlers.stop(Number.isSafeInteger(r.timeout) && r.timeout! > 0 ? r.timeout : undefined),
      reload: (r) => handlers.reload({ workers: r.workers !== false, agent: r.agent !== false }),
      // The master checks the values (a coded error for a bad one): they may come from anything that can write here.
      scale: (r) => handlers.scale(r.workers),
      profile: (r) => handlers.profile(r.target, r.kind, r.durationMs),
    };
    server.on('connection', (socket) => this.#serve(socket));
  }

  /** Makes the socket (and the lock) again if they vanished; gives up the socket if another master took the lock meanwhile. */
  async #restore(): Promise<void> {
    const inode = inodeOf(this.path);
    if (inode !== null && inode === this.#inode) return;
    const lock = `${this.path}.lock`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      if (!stillMine(lock, this.#mine)) {
        if (readOwner(lock)) {
          this.#logger.error('[%s] another master holds %s now; this one gives up its control socket', ClusterErrorCode.ALREADY_RUNNING, lock);
          clearInterval(this.#guard);
          return;
        }
        writeFileSync(lock, this.#mine, { mode: 0o600, flag: 'wx' });
      }
      // Closed first: closing a unix-socket server unlinks its path, which would take the new socket with it.
      this.#server.close();
      if (inodeOf(this.path) !== null) unlinkSync(this.path);
      const server = await listenOn(this.path);
      server.on('connection', (socket) => this.#serve(socket));
      this.#server = server;
      this.#inode = inodeOf(this.path);
      this.#logger.warn('[%s] the control socket %s was removed (a tmp cleaner?); it listens again', ClusterErrorCode.CONTROL_RESTORED, this.path);
    } catch (err) {
      this.#logger.error('[%s] could not make the control socket %s again: %s', ClusterErrorCode.CONTROL_RESTORED, this.path, err);
    }
  }

  /**
   * Takes the cluster's lock, then listens on `path`. The lock (`<path>.lock`, created exclusively,
   * holding the master's pid and start time) makes two starts of the same project and title race
   * safely: one wins, the other gets CLUTCH_ERR_CONTROL_ALREADY_RUNNING before it forks anything. A
   * lock or a socket left by a master that died (SIGKILL, even unreaped) is taken over.
   */
  static async open(path: string, handlers: ControlHandlers, logger: Logger): Promise<ControlServer> {
    const lock = `${path}.lock`;
    const mine = takeLock(lock);
    const lost = () => new ClutchError(ClusterErrorCode.ALREADY_RUNNING, `Another master took the lock ${lock} while this one started`);
    // Checked again right before the socket is replaced, and after: of starters racing over a stale
    // lock, only the one whose lock is in place goes on.
    if (!stillMine(lock, mine)) throw lost();
    try {
      unlinkSync(path);
    } catch {
      // No stale socket.
    }
    const server = await listenOn(path);
    if (!stillMine(lock, mine)) {
      server.close();
      throw lost();
    }
    return new ControlServer(path, server, mine, handlers, logger);
  }

  /** Closes the socket and releases the lock; only the master holding the lock ever gets here. */
  close(): void {
    clearInterval(this.#guard);
    this.#server.close();
    for (const file of [this.path, `${this.path}.lock`]) {
      try {
        unlinkSync(file);
      } catch {
        // Already gone.
      }
    }
  }

  #serve(socket: Socket): void {
    socket.on('error', () => {});
    const lines = createInterface({ input: socket });
    lines.on('error', () => {});
    lines.on('line', (line) => {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        request = undefined;
      }
      if (!isRequest(request)) {
        this.#logger.warn('[%s] ignored a control request: %s', ClusterErrorCode.CONTROL_BAD_REQUEST, line.slice(0, 200));
        const id = typeof request === 'object' && request !== null ? Number((request as { id?: unknown }).id) || 0 : 0;
        this.#reply(socket, {
          id,
          ok: false,
          error: serializeError(new ClutchError(ClusterErrorCode.CONTROL_BAD_REQUEST, 'Unknown or malformed control request')),
        });
        return;
      }
      const run = this.#dispatch[request.cmd] as (r: ControlRequest) => Promise<unknown>;
      run(request).then(
        (data) => this.#reply(socket, { id: request.id, ok: true, data: data ?? null }, request.cmd === 'stop' ? this.#afterStop : undefined),
        (err: unknown) => this.#reply(socket, { id: request.id, ok: false, error: serializeError(err) }),
      );
    });
  }

  #reply(socket: Socket, response: ControlResponse, then?: () => void): void {
    if (socket.destroyed) {
      then?.();
      return;
    }
    socket.write(`${JSON.stringify(response)}\n`, () => then?.());
  }
}
