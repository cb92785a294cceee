import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { ListenConfig } from '../framework.js';

/**
 * How a draining worker treats keep-alive connections that are idle:
 * - `stop`: close them at once; nothing else will serve the client anyway.
 * - `reload`: a new worker serves already. Closing an idle connection races with a client that is
 *   just sending on it (the reset pm2's reload shows), so during a grace period each connection
 *   instead gets its next response with `Connection: close`; what is still idle after it is closed.
 */
export type DrainMode = 'stop' | 'reload';

/** How long a reloading worker waits for idle keep-alive connections to send their next request, ms. */
export const RELOAD_IDLE_GRACE_MS = 1_000;

/**
 * A worker's HTTP server that can drain: stop accepting, let requests in flight finish, answer with
 * `Connection: close` from then on, and end every keep-alive connection without cutting a request.
 * Which connections are idle is Node's own call (`closeIdleConnections` knows a request whose
 * headers are still arriving is not idle).
 */
export class DrainableServer {
  readonly server: Server;
  /** Open connections; tracked once per connection, so serving a request costs one boolean check. */
  readonly #sockets = new Set<Socket>();
  #mode: DrainMode | null = null;
  #sweeper: NodeJS.Timeout | undefined;
  /** A listen under way: a drain must wait for it, or the server would open after the drain. */
  #listening: Promise<void> | null = null;
  #waitingForFlush = false;

  constructor(listener: RequestListener, options: { keepAliveTimeout?: number } = {}) {
    this.server = createServer((req, res) => {
      // During a drain every response tells the client to send its next request elsewhere.
      if (this.#mode) this.#closing(res);
      listener(req, res);
    });
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    if (options.keepAliveTimeout !== undefined) this.server.keepAliveTimeout = options.keepAliveTimeout;
  }

  /** Marks a response as the last on its connection; once it ends, a stop closes what is idle. */
  #closing(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('connection', 'close');
    if (this.#mode === 'stop') res.once('close', () => setImmediate(() => this.#closeIdle()));
  }

  /**
   * Closes idle connections — but Node counts a connection idle as soon as its response has
   * ended, even while a large body is still being written to a slow client. So while any response
   * is still flushing, wait for it to finish first (the drain's deadline still bounds the wait).
   */
  #closeIdle(): void {
    if (this.#waitingForFlush) return;
    for (const socket of this.#sockets) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res && res.writableEnded && !res.writableFinished) {
        this.#waitingForFlush = true;
        res.once('close', () => {
          this.#waitingForFlush = false;
          this.#closeIdle();
        });
        return;
      }
    }
    this.server.closeIdleConnections();
  }

  listen(config: ListenConfig): Promise<void> {
    this.#listening = this.#listen(config);
    return this.#listening;
  }

  #listen(config: ListenConfig): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if (config.path) this.server.listen(config.path, done);
      else if (config.hostname) this.server.listen(config.port ?? 0, config.hostname, done);
      else this.server.listen(config.port ?? 0, done);
    });
  }

  /**
   * Stops accepting and resolves once every connection is closed, or once `deadline` ms have
   * passed: then the connections still open are cut, so the caller can still run beforeClose.
   */
  async drain(mode: DrainMode, deadline: number): Promise<void> {
    this.#mode = mode;
    // A stop that comes while listen() is under way: let it finish, then close (a failed listen
    // leaves nothing to close).
    await this.#listening?.catch(() => {});
    // The responses in flight right now: Node keeps each connection's current one on the socket
    // (`_httpMessage`, as its own closeIdleConnections reads it).
    for (const socket of this.#sockets) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (res && !res.writableEnded) this.#closing(res);
    }
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      const cut = setTimeout(() => this.server.closeAllConnections(), deadline);
      // net.Server's close, not http.Server's: the latter cuts every idle connection at once,
      // which is right for a stop and wrong for a reload. The callback runs once all are gone.
      NetServer.prototype.close.call(this.server, () => {
        clearTimeout(cut);
        clearInterval(this.#sweeper);
        resolve();
      });
      if (mode === 'stop') {
        this.#closeIdle();
      } else {
        setTimeout(() => {
          this.#closeIdle();
          this.#sweeper = setInterval(() => this.#closeIdle(), 100);
        }, RELOAD_IDLE_GRACE_MS).unref();
      }
    });
  }
}
