import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { sendControl } from './control-client.js';
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
   * Listens on `path`. A live socket there means this project's cluster (same title) already
   * runs: CLUTCH_ERR_CONTROL_ALREADY_RUNNING. A dead one (a master killed by SIGKILL) is replaced.
   */
  static async open(path: string, handlers: ControlHandlers, logger: Logger): Promise<ControlServer> {
    const alive = await sendControl(path, { cmd: 'status' }, 2_000).then(
      () => true,
      () => false,
    );
    if (alive) throw new ClutchError(ClusterErrorCode.ALREADY_RUNNING, `A cluster started from this directory with this title is running already (control socket ${path})`);
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

  close(): void {
    this.#server.close();
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
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
