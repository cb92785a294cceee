import cluster, { type Address, type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { ChildHandle, ExitInfo, ProcessState } from './child-handle.js';
import type { MasterMessage } from './protocol.js';

export interface WorkerProcessEvents {
  message: [raw: unknown];
  listening: [address: Address];
  exit: [info: ExitInfo];
}

/**
 * The master's handle on one app worker: a node:cluster fork, so every worker shares the listening
 * socket the master holds. `cluster.setupPrimary` must have pointed at the worker entry.
 */
export class WorkerProcess extends EventEmitter<WorkerProcessEvents> implements ChildHandle {
  readonly role = 'app' as const;
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  state: ProcessState = 'starting';
  retiring = false;
  listening = false;
  /** Forked by a reload and not in service yet: a death is the reload's failure, not a crash. */
  candidate = false;
  /** The port this worker was told to listen on (undefined: the project's config decides). */
  readonly port: number | undefined;
  readonly #worker: Worker;

  constructor(env: NodeJS.ProcessEnv, port: number | undefined) {
    super();
    this.port = port;
    this.#worker = cluster.fork(env);
    this.pid = this.#worker.process.pid ?? 0;
    this.#worker.on('message', (raw) => this.emit('message', raw));
    this.#worker.on('listening', (address) => {
      this.listening = true;
      this.emit('listening', address);
    });
    this.#worker.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.#worker.once('exit', (code, signal) => {
        this.state = 'dead';
        this.listening = false;
        const info = { code, signal: signal as NodeJS.Signals | null };
        // Resolve first: a throwing exit listener must not leave terminate() waiting forever.
        resolve(info);
        this.emit('exit', info);
      });
    });
  }

  send(message: MasterMessage): boolean {
    if (!this.#worker.isConnected()) return false;
    this.#worker.send(message);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    // worker.kill() would disconnect first; a plain signal lets the worker drain on its own terms.
    const child = this.#worker.process;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
