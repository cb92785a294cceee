import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import { Server as NetServer, Socket } from 'node:net';
import type { ListenConfig, ServerLimits } from '../framework.js';
import type { ListenAddress } from '../protocol.js';
import type { TLSSocket } from 'node:tls';
import type { HttpStats } from '../http-stats.js';
import type { RawHandle } from '../round-robin.js';
import type { OverloadGuard } from './overload.js';
import { http, http2, https } from '../node-http.js';

/**
 * How a draining worker treats keep-alive connections that are idle:
 * - `stop`: close them at once; nothing else will serve the client anyway.
 * - `reload`: a new worker serves already. Closing an idle connection races with a client that is
 *   just sending on it (the reset pm2's reload shows, and a fixed grace period only moves the race),
 *   so the worker closes none of them itself: each gets its next response with `Connection: close`,
 *   and one that sends nothing more is closed by Node's own keep-alive timer — the one the client
 *   was told of (`Keep-Alive: timeout=…`) and retires its socket before (Node's Agent, browsers).
 *   Only once `keepAliveTimeout` has passed since the drain began does it close what is still idle:
 *   connections handed over that never sent a request.
 */
export type DrainMode = 'stop' | 'reload';

/** An HTTP/2 server has no keep-alive timer for its HTTP/1.1 fallback: a reload waits this long for them, ms. */
const H2_FALLBACK_IDLE_GRACE_MS = 1_000;
/**
 * A connection handed over just before the drain began has not sent its first request yet: it gets
 * this long for that request before a drain closes idle connections, ms.
 */
const FRESH_GRACE_MS = 500;

const ACCEPTED_AT = Symbol('clutch.acceptedAt');
type Tracked = Socket & { [ACCEPTED_AT]?: number; _httpMessage?: ServerResponse | null };

/** What the server speaks: plain HTTP/1.1, HTTPS, or HTTP/2 over TLS with HTTP/1.1 fallback (ALPN). */
export interface ServerProtocol {
  tls?: { key: Buffer | string; cert: Buffer | string };
  http2?: boolean;
}

/**
 * A worker's HTTP server that can drain: stop taking connections, let requests in flight finish,
 * answer with `Connection: close` from then on, and end every keep-alive connection without cutting
 * a request. Which connections are idle is Node's own call (`closeIdleConnections` knows a request
 * whose headers are still arriving is not idle).
 *
 * The server binds nothing itself: the master listens and hands it each connection (`accept`).
 */
export class DrainableServer {
  readonly server: Server | Http2SecureServer;
  /** HTTP/2 sessions: a drain sends each a GOAWAY (`close()`), and lets its streams finish. */
  readonly #sessions = new Set<ServerHttp2Session>();
  /** TLS connections that fell back to HTTP/1.1 on an HTTP/2 server (Node tracks no idle state for them). */
  readonly #http1OverH2 = new Set<TLSSocket>();
  /** Open connections; tracked once per connection, so serving a request costs one boolean check. */
  readonly #sockets = new Set<Tracked>();
  #mode: DrainMode | null = null;
  #sweeper: NodeJS.Timeout | undefined;
  #waitingForFlush = false;
  #onEmpty: (() => void) | null = null;

  constructor(
    listener: RequestListener,
    options: { keepAliveTimeout?: number; limits?: ServerLimits; guard?: OverloadGuard; stats?: HttpStats } & ServerProtocol = {},
  ) {
    const guard = options.guard;
    const serverOptions = { ...(options.stats ? { ServerResponse: options.stats.responseClass() } : {}), ...http1Limits(options.limits) };
    const handler: RequestListener = (req, res) => {
      (req.socket as Tracked)[ACCEPTED_AT] = 0;
      // During a drain every response tells the client to send its next request elsewhere (HTTP/2
      // has no such header: its GOAWAY says it).
      if (this.#mode && req.httpVersionMajor < 2) this.#closing(res);
      if (guard?.shedding) return shed(guard, req, res);
      listener(req, res);
    };
    if (options.tls && options.http2) {
      const h2 = http2().createSecureServer({ ...options.tls, allowHTTP1: true }, handler as never);
      h2.on('session', (session) => {
        this.#sessions.add(session);
        session.once('close', () => this.#sessions.delete(session));
        if (this.#mode) goAway(session);
      });
      h2.on('secureConnection', (tls: TLSSocket) => {
        if (tls.alpnProtocol === 'h2') return;
        this.#http1OverH2.add(tls);
        tls.once('close', () => this.#http1OverH2.delete(tls));
      });
      this.server = h2;
    } else if (options.tls) {
      this.server = https().createServer({ ...serverOptions, ...options.tls }, handler);
    } else {
      this.server = http.createServer(serverOptions, handler);
    }
    this.server.on('connection', (socket: Tracked) => {
      socket[ACCEPTED_AT] = Date.now();
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#sockets.size === 0) this.#onEmpty?.();
      });
    });
    if (options.keepAliveTimeout !== undefined && 'keepAliveTimeout' in this.server) this.server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.limits && 'headersTimeout' in this.server) {
      if (options.limits.requestTimeout !== undefined) this.server.requestTimeout = options.limits.requestTimeout;
      if (options.limits.headersTimeout !== undefined) this.server.headersTimeout = options.limits.headersTimeout;
    }
    // Node starts tracking connections (request and headers timeouts, closeIdleConnections) when a
    // server starts listening; this one never binds, so it is told.
    this.server.emit('listening');
  }

  /** 'os' and reusePort: binds and listens here (exclusively: not through node:cluster), for the master to keep a copy. */
  bind(config: ListenConfig & { reusePort?: boolean }): Promise<{ address: ListenAddress; socket: RawHandle }> {
    const options = config.path
      ? { path: config.path, exclusive: true }
      : { port: config.port ?? 0, ...(config.hostname ? { host: config.hostname } : {}), exclusive: true, ...(config.reusePort ? { reusePort: true } : {}) };
    return this.#listenWith(options).then((address) => ({ address, socket: (this.server as unknown as { _handle: RawHandle })._handle }));
  }

  /** 'os' and reusePort: listens on a socket the master keeps (a raw handle). */
  listenOn(socket: RawHandle): Promise<ListenAddress> {
    return this.#listenWith(socket);
  }

  #listenWith(target: object): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const server = this.server as NetServer;
      const fail = (err: Error) => reject(err);
      server.once('error', fail);
      server.listen(target, () => {
        server.off('error', fail);
        const a = server.address();
        resolve(
          typeof a === 'string' || a === null
            ? { address: a ?? '', port: null, family: 'unix' }
            : { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' },
        );
      });
    });
  }

  /** Serves a connection the master accepted. */
  accept(handle: RawHandle): void {
    // `handle` is how node:net wraps a descriptor it did not open (node:cluster's workers do the same).
    const socket = new Socket({ handle, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
    // What net.Server does for an http.Server's connections (noDelay is http's default).
    socket.setNoDelay(true);
    this.server.emit('connection', socket);
  }

  /** Marks a response as the last on its connection; once it ends, a stop closes what is idle. */
  #closing(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('connection', 'close');
    if (this.#mode === 'stop') res.once('close', () => setImmediate(() => this.#closeIdle()));
  }

  /**
   * Closes idle connections — but Node counts a connection idle as soon as its response has ended,
   * even while a large body is still being written to a slow client, and before a connection just
   * handed over has sent its first request. So while any response is still flushing, or a fresh
   * connection has not been heard from, wait (the drain's deadline still bounds the wait).
   */
  #closeIdle(): void {
    if (this.#waitingForFlush) return;
    const now = Date.now();
    let fresh = false;
    for (const socket of this.#sockets) {
      const res = socket._httpMessage;
      if (res && res.writableEnded && !res.writableFinished) {
        this.#waitingForFlush = true;
        res.once('close', () => {
          this.#waitingForFlush = false;
          this.#closeIdle();
        });
        return;
      }
      const at = socket[ACCEPTED_AT] ?? 0;
      if (at > 0 && now - at < FRESH_GRACE_MS) fresh = true;
    }
    if (fresh) {
      setTimeout(() => this.#closeIdle(), 50).unref();
      return;
    }
    if ('closeIdleConnections' in this.server) {
      this.server.closeIdleConnections();
      // Node does not count a connection that never sent a request as idle (a browser's preconnect):
      // one that has sent no byte at all is closed too; one whose first headers are arriving is not.
      for (const socket of this.#sockets) if ((socket[ACCEPTED_AT] ?? 0) > 0 && socket.bytesRead === 0) socket.destroy();
      return;
    }
    // An HTTP/2 server: what fell back to HTTP/1.1 and has no response under way is idle.
    for (const tls of this.#http1OverH2) if (!(tls as TLSSocket & { _httpMessage?: unknown })._httpMessage) tls.destroy();
  }

  /**
   * Stops taking connections and resolves once every connection is closed, or once `deadline` ms
   * have passed: then the connections still open are cut, so the caller can still run beforeClose.
   * `settle` runs first: it resolves once every connection the master handed this worker before it
   * left the rotation has arrived.
   */
  async drain(mode: DrainMode, deadline: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    const began = Date.now();
    this.#mode = mode;
    // The responses in flight right now: Node keeps each connection's current one on the socket
    // (`_httpMessage`, as its own closeIdleConnections reads it).
    for (const socket of this.#sockets) {
      const res = socket._httpMessage;
      if (res && !res.writableEnded) this.#closing(res);
    }
    // A socket this worker listens on itself ('os', reusePort): its copy closes; the master's keeps
    // the socket listening, its queue intact, for the next worker.
    if (this.server.listening) NetServer.prototype.close.call(this.server);
    await settle();
    // HTTP/2: a GOAWAY to every session; streams in flight finish, new ones go to another worker.
    for (const session of this.#sessions) goAway(session);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(cut);
        clearInterval(this.#sweeper);
        this.#onEmpty = null;
        resolve();
      };
      const cut = setTimeout(
        () => {
          if ('closeAllConnections' in this.server) this.server.closeAllConnections();
          for (const session of this.#sessions) session.destroy();
          for (const socket of this.#sockets) socket.destroy();
        },
        Math.max(0, deadline - (Date.now() - began)),
      );
      this.#onEmpty = done;
      if (this.#sockets.size === 0) {
        done();
        return;
      }
      if (mode === 'stop') {
        this.#closeIdle();
      } else {
        const wait = 'closeIdleConnections' in this.server ? this.server.keepAliveTimeout : H2_FALLBACK_IDLE_GRACE_MS;
        setTimeout(
          () => {
            this.#closeIdle();
            this.#sweeper = setInterval(() => this.#closeIdle(), 100);
          },
          Math.max(0, wait - (Date.now() - began)),
        ).unref();
      }
    });
  }
}

/** The largest stream id: a GOAWAY naming it tells the client to stop opening streams while refusing none. */
const MAX_STREAM_ID = 2 ** 31 - 1;
/** How long the first GOAWAY's round trip may take before the session is closed anyway, ms. */
const GOAWAY_ROUND_TRIP_MS = 1_000;

/**
 * Ends an HTTP/2 session without refusing a stream, as RFC 9113 §6.8 describes a graceful shutdown:
 * first a GOAWAY with the largest stream id (open no more streams, every one you sent is taken),
 * then a PING — its answer comes after the client has read that GOAWAY, so no stream of its is
 * still on the way — and only then `close()`, whose GOAWAY names the last stream really received.
 * A single GOAWAY refused the streams a busy client had in flight (20 of 34,456 in a reload).
 */
function goAway(session: ServerHttp2Session): void {
  if (session.closed || session.destroyed) return;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    if (!session.closed && !session.destroyed) session.close();
  };
  const timer = setTimeout(close, GOAWAY_ROUND_TRIP_MS);
  timer.unref();
  try {
    session.goaway(http2().constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
    if (!session.ping(() => close())) close();
  } catch {
    close();
  }
}

/**
 * Node's HTTP/1 server options for the project's limits. Node looks for expired headers and
 * requests every `connectionsCheckingInterval` (30 s by default), so a short timeout gets a check
 * at a quarter of it: a slow client is cut close to the limit, not up to 30 s after.
 */
function http1Limits(limits: ServerLimits | undefined): { maxHeaderSize?: number; connectionsCheckingInterval?: number } {
  if (!limits) return {};
  const timeouts = [limits.headersTimeout, limits.requestTimeout].filter((t): t is number => t !== undefined && t > 0);
  const shortest = Math.min(...timeouts);
  return {
    ...(limits.maxHeaderSize !== undefined ? { maxHeaderSize: limits.maxHeaderSize } : {}),
    ...(timeouts.length > 0 ? { connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(shortest / 4))) } : {}),
  };
}

/**
 * An overloaded worker's answer, before any of the app's middleware: 503 with Retry-After. Over
 * HTTP/1 it closes the connection too, so the client's next request comes on a new connection,
 * which the master may hand to a worker that is not overloaded.
 */
function shed(guard: OverloadGuard, req: IncomingMessage, res: ServerResponse): void {
  guard.refused();
  const headers: Record<string, string> = { 'retry-after': String(guard.retryAfter), 'content-type': 'text/plain; charset=utf-8' };
  if (req.httpVersionMajor < 2) headers.connection = 'close';
  res.writeHead(503, headers);
  res.end('Service Unavailable: overloaded, retry later\n');
  req.resume();
}
