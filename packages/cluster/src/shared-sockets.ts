import type { ListenConfig } from './framework.js';
import type { ListenAddress } from './protocol.js';
import type { RawHandle } from './round-robin.js';

/**
 * The master's copies of sockets the workers listen on themselves: one for the whole cluster
 * (`scheduling: 'os'`, node:cluster's SCHED_NONE: the kernel picks which worker accepts), or one per
 * worker slot (`reusePort`: SO_REUSEPORT, each slot's socket with its own queue). The master never
 * polls them; holding them keeps each socket listening while its workers come and go — so no
 * connection in a queue is reset when a worker stops or dies, and the next worker of that slot
 * (or any worker, for 'os') listens on the very same socket and takes the queue over.
 */
export class SharedSockets {
  readonly #held = new Map<string, { handle: RawHandle; address: ListenAddress }>();
  /** Per address asked for with port 0: the port its first socket got, which every other slot's socket then binds too. */
  readonly #ports = new Map<string, number>();

  /** The key of a socket: its address, and for reusePort the slot it belongs to. */
  static key(config: ListenConfig, slot: number | null): string {
    const where = config.path ? `unix:${config.path}` : `${config.hostname ?? ''}:${config.port ?? 0}`;
    return slot === null ? where : `${where}#${slot}`;
  }

  get(key: string): { handle: RawHandle; address: ListenAddress } | undefined {
    return this.#held.get(key);
  }

  /** Keeps the first socket bound for `key`; a second (a race of two first workers) is not needed. */
  keep(key: string, handle: RawHandle, address: ListenAddress): void {
    if (this.#held.has(key)) handle.close();
    else this.#held.set(key, { handle, address });
    const base = key.replace(/#\d+$/, '');
    if (address.port !== null && !this.#ports.has(base)) this.#ports.set(base, address.port);
  }

  /** `config` with port 0 turned into the port the address already has (reusePort: every slot on one port). */
  resolve(config: ListenConfig): ListenConfig {
    if (config.path || (config.port ?? 0) !== 0) return config;
    const port = this.#ports.get(SharedSockets.key(config, null));
    return port === undefined ? config : { ...config, port };
  }

  /** How many sockets the master holds. */
  get size(): number {
    return this.#held.size;
  }

  closeAll(): void {
    for (const { handle } of this.#held.values()) handle.close();
    this.#held.clear();
  }
}

/** SO_REUSEPORT through `listen({ reusePort })`: Linux, Node ≥ 22.12 (23.1 on the 23 line). */
export function reusePortSupported(): string | null {
  if (process.platform !== 'linux') return `it needs Linux (this is ${process.platform})`;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) return null;
  return `it needs Node.js 22.12 or newer (this is ${process.version})`;
}
