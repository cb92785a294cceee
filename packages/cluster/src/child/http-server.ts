import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { ListenConfig } from '../framework.js';

/**
 * A worker's HTTP server that can drain: stop accepting, let requests in flight finish, and close
 * keep-alive connections as soon as they are idle, instead of waiting out the keep-alive timeout.
 */
export class DrainableServer {
  readonly server: Server;
  readonly #inFlight = new Set<ServerResponse>();
  #draining = false;

  constructor(listener: RequestListener, options: { keepAliveTimeout?: number } = {}) {
    this.server = createServer((req, res) => {
      this.#inFlight.add(res);
      // During a drain every response tells the client to open its next request elsewhere.
      if (this.#draining) res.setHeader('connection', 'close');
      res.once('close', () => {
        this.#inFlight.delete(res);
        // A keep-alive socket whose response had already started when the drain began is idle now.
        if (this.#draining) setImmediate(() => this.server.closeIdleConnections());
      });
      listener(req, res);
    });
    if (options.keepAliveTimeout !== undefined) this.server.keepAliveTimeout = options.keepAliveTimeout;
  }

  listen(config: ListenConfig): Promise<void> {
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

  /** Resolves once every connection is closed. */
  drain(): Promise<void> {
    this.#draining = true;
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      // close() stops accepting and (Node ≥ 19) closes the connections idle right now; the
      // callback runs once the last connection is gone.
      this.server.close(() => resolve());
    });
  }
}
