import type { Application } from '../../application.js';

/** Where egg-socket.io's `app.io` getter keeps the socket.io Server it made (its own `Symbol.for`). */
const EGG_SOCKET_IO = Symbol.for('EGG-SOCKET.IO#IO');

/** The part of a socket.io Server (2.x or later) the drain reaches: engine.io's open connections. */
interface SocketIoServer {
  engine?: { clients?: Record<string, { close(): void }> };
}

/**
 * egg-socket.io never closes its connections before the worker exits (egg kills its workers), so a
 * stop or a reload with clients connected would wait out the stop timeout: a WebSocket holds its
 * connection, and a polling client's long poll is a request in flight (up to socket.io 2's 25 s
 * pingInterval). On `'draining'`, each engine.io connection is closed — a WebSocket gets its close
 * frame, a pending poll its close packet — and the client reconnects, to the worker serving its
 * slot. Only a server egg-socket.io made is touched; `app.io` is not read, so none is made here.
 */
export function drainEggSocketIo(app: Application): void {
  app.on('draining', () => {
    const io = (app as unknown as Record<symbol, SocketIoServer | undefined>)[EGG_SOCKET_IO];
    for (const client of Object.values(io?.engine?.clients ?? {})) client.close();
  });
}
