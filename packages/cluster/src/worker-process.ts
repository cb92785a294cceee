import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { ChildHandle, ExitInfo, ProcessState } from './child-handle.js';
import type { LogHealth } from './log-sink.js';
import type { MasterMessage } from './protocol.js';
import type { ConnectionTarget, RawHandle } from './round-robin.js';

export interface WorkerProcessEvents {
  message: [raw: unknown, handle?: unknown];
  exit: [info: ExitInfo];
}

/**
 * The master's handle on one app worker: a node:cluster fork (user code that checks
 * `cluster.isWorker` sees what it expects), which serves the connections the master's listening
 * socket accepts and hands it. `cluster.setupPrimary` must have pointed at the worker entry.
 */
export class WorkerProcess extends EventEmitter<WorkerProcessEvents> implements ChildHandle, ConnectionTarget {
  readonly role = 'app' as const;
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  state: ProcessState = 'starting';
  retiring = false;
  logHealth: LogHealth = { dropped: 0, lastError: null };
  killedFor: 'stalled' | null = null;
  leftOnItsOwn = false;
  listening = false;
  /** Forked by a reload and not in service yet: a death is the reload's failure, not a crash. */
  candidate = false;
  readonly #worker: Worker;

  constructor(env: NodeJS.ProcessEnv) {
    super();
    this.#worker = cluster.fork(env);
    this.pid = this.#worker.process.pid ?? 0;
    this.#worker.on('message', (raw, handle) => this.emit('message', raw, handle));
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

  send(message: MasterMessage, written?: (err: Error | null) => void): boolean {
    if (!this.#worker.isConnected()) return false;
    if (written) this.#worker.send(message, written);
    else this.#worker.send(message);
    return true;
  }

  /** Sends a message with a socket (a raw handle, kept open here: the master holds its own copy). */
  sendWithHandle(message: MasterMessage, handle: RawHandle): boolean {
    if (!this.#worker.isConnected()) return false;
    this.#worker.send(message, handle as never);
    return true;
  }

  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void {
    if (!this.#worker.isConnected()) {
      queueMicrotask(() => done(new Error(`the channel to worker ${this.pid} is closed`)));
      return;
    }
    // A raw handle (net.Native): no net.Socket is built around it in the master.
    this.#worker.send({ clutch: 'connection' } satisfies MasterMessage, handle as never, done);
  }

  kill(signal: NodeJS.Signals): void {
    // worker.kill() would disconnect first; a plain signal lets the worker drain on its own terms.
    const child = this.#worker.process;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
