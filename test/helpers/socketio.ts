/**
 * A socket.io 2 client (what egg-socket.io's socket.io 2 server speaks), from a chosen loopback
 * address so that a test picks which sticky worker it reaches, and the waits the socket.io tests
 * share — each with a deadline.
 */
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { stickySlot } from '../../packages/cluster/src/sticky.ts';

/** The part of a socket.io-client 2 socket the tests use (the package ships no types). */
export interface V2Socket {
  connected: boolean;
  io: { engine: { transport: { name: string }; once(event: 'upgrade', fn: (t: { name: string }) => void): void } };
  on(event: string, fn: (...args: never[]) => void): void;
  once(event: string, fn: (...args: never[]) => void): void;
  emit(event: string, ...args: unknown[]): void;
  close(): void;
}
type V2Connect = (url: string, options: Record<string, unknown>) => V2Socket;
const ioV2 = createRequire(import.meta.url)('socket.io-client-v2') as V2Connect;

/** Loopback addresses a client can leave from (Linux routes all of 127/8 to lo). */
export const LOOPBACK = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);

/** `n` loopback addresses of each of the two sticky slots, from `from` on. */
export const spread = (n: number, from = 0): string[] => {
  const pool = LOOPBACK.slice(from);
  return [0, 1].flatMap((slot) => pool.filter((a) => stickySlot(a, [0, 1]) === slot).slice(0, n));
};

/** A socket.io 2 client from `localAddress`; every polling request on a connection of its own, so each is a pick of the master's. */
export function client(url: string, localAddress: string, options: { polling?: boolean; reconnect?: boolean } = {}): V2Socket {
  return ioV2(url, {
    forceNew: true,
    agent: new Agent({ localAddress, keepAlive: false }),
    // On Node >= 22, where WebSocket is a global, engine.io-client 3 upgrades with it (undici's),
    // which takes no agent: the upgrade would leave from 127.0.0.1, not `localAddress`, so sticky
    // would send it to whichever worker owns 127.0.0.1. `ws` takes the agent, as a browser's one
    // address does.
    forceNode: true,
    transports: options.polling ? ['polling'] : ['polling', 'websocket'],
    reconnection: options.reconnect !== false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
  });
}

/** Resolves once `socket` is connected, with the first argument of `greeting` if the server emits one on connect; rejects on connect_error or past `ms`. */
export function connected(socket: V2Socket, ms = 5_000, greeting = 'res'): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once(greeting, (text: string) => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.once('connect_error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves with the transport's name once `socket` has upgraded (to WebSocket); rejects past `ms`. */
export function upgraded(socket: V2Socket, ms = 5_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade within ${ms} ms (transport ${socket.io.engine.transport.name})`)), ms);
    socket.io.engine.once('upgrade', (t) => (clearTimeout(timer), resolve(t.name)));
  });
}

/** Emits `event` with `message` and resolves with the acknowledgement; rejects past `ms`. */
export function emitAck<T>(socket: V2Socket, event: string, message: unknown, ms = 3_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event} ${JSON.stringify(message)} within ${ms} ms`)), ms);
    socket.emit(event, message, (ack: T) => {
      clearTimeout(timer);
      resolve(ack);
    });
  });
}
