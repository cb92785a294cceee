import { chmodSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { type ControlRequest, type ControlResponse } from './control.js';
import { ClusterErrorCode, ClutchError, serializeError } from './errors.js';
import type { Logger } from './logger.js';
import type { ReloadOptions } from './reload.js';

/** What the master does for each control command. */
export interface ControlHandlers {
  status(): Promise<unknown>;
  /** Stops the cluster; the reply is sent once every child is gone, then `afterStop` runs. */
  stop(timeout: number | undefined): Promise<unknown>;
  reload(options: ReloadOptions): Promise<unknown>;
  /** Runs once the stop reply is flushed (the master exits there). */
  afterStop(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file exclusively; takes over one whose master is dead. */
function takeLock(lock: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new ClutchError(ClusterErrorCode.ALREADY_RUNNING, `A cluster started from this directory with this title is running already (master ${owner}; lock ${lock})`);
    }
    try {
      unlinkSync(lock);
    } catch {
      // Another starter took it over first: the next attempt tells.
    }
  }
  throw new ClutchError(ClusterErrorCode.ALREADY_RUNNING, `Another master is taking the lock ${lock} right now`);
}

type Dispatch = { [K in ControlRequest['cmd']]: (request: Extract<ControlRequest, { cmd: K }>) => Promise<unknown> };

function isRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return Number.isSafeInteger(r.id) && (r.cmd === 'status' || r.cmd === 'stop' || r.cmd === 'reload');
}

/** The master's end of the control channel (see control.ts). */
export class ControlServer {
  readonly path: string;
  readonly #server: Server;
  readonly #logger: Logger;
  readonly #dispatch: Dispatch;
  readonly #afterStop: () => void;

  private constructor(path: string, server: Server, handlers: ControlHandlers, logger: Logger) {
    this.path = path;
    this.#server = server;
    this.#logger = logger;
    this.#afterStop = handlers.afterStop;
    this.#dispatch = {
      status: () => handlers.status(),
      stop: (r) => handlers.stop(Number.isSafeInteger(r.timeout) && r.timeout! > 0 ? r.timeout : undefined),
      reload: (r) => handlers.reload({ workers: r.workers !== false, agent: r.agent !== false }),
    };
    server.on('connection', (socket) => this.#serve(socket));
  }

  /**
   * Takes the cluster's lock, then listens on `path`. The lock (`<path>.lock`, created exclusively,
   * holding the master's pid) makes two starts of the same project and title race safely: one
   * wins, the other gets CLUTCH_ERR_CONTROL_ALREADY_RUNNING before it forks anything. A lock or a
   * socket left by a master that died (SIGKILL) is taken over.
   */
  static async open(path: string, handlers: ControlHandlers, logger: Logger): Promise<ControlServer> {
    takeLock(`${path}.lock`);
    try {
      unlinkSync(path);
    } catch {
      // No stale socket.
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return new ControlServer(path, server, handlers, logger);
  }

  /** Closes the socket and releases the lock; only the master holding the lock ever gets here. */
  close(): void {
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
        this.#reply(socket, { id, ok: false, error: serializeError(new ClutchError(ClusterErrorCode.CONTROL_BAD_REQUEST, 'Unknown or malformed control request')) });
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
