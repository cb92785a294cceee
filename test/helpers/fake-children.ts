/**
 * Fakes of the master's children for unit tests of the pieces that decide (the child handle, the
 * stopper, reloads, recycling): no process is forked, and every order and signal is recorded.
 */
import { EventEmitter } from 'node:events';
import { format } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type { Logger, MasterMessage } from '@clutch/cluster';
import { ChildProcessHandle } from '../../packages/cluster/src/child-handle.ts';
import { isBatch } from '../../packages/cluster/src/coalesce.ts';
import type { RawHandle } from '../../packages/cluster/src/round-robin.ts';

let nextPid = 90_000;

/** What a forked process looks like to its handle: a channel that records, and an exit the test triggers. */
export class FakeProcess extends EventEmitter {
  readonly pid = nextPid++;
  connected = true;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly sent: MasterMessage[] = [];
  /** Writes to the channel (a batch is one). */
  writes = 0;
  /** The handles sent with messages (a socket, a connection), in order. */
  readonly handles: unknown[] = [];
  readonly signals: NodeJS.Signals[] = [];

  /** Records what the handle wrote, a batch (coalesce.ts) as the messages it carries, and counts the writes. */
  send(message: MasterMessage, handle?: unknown, written?: (err: Error | null) => void): boolean {
    this.writes++;
    const raw: unknown = message;
    const messages = isBatch(raw) ? (raw.messages as MasterMessage[]) : [message];
    this.sent.push(...messages);
    if (handle !== undefined) this.handles.push(handle);
    written?.(null);
    for (const m of messages) this.emit('sent', m);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }

  /** The process exits (with `code`, or killed by `signal`). */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.connected = false;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }
}

export class FakeAgent extends ChildProcessHandle {
  readonly role = 'agent' as const;
  protected readonly bootedAt = 'ready';
  readonly process: FakeProcess;

  constructor(process = new FakeProcess()) {
    super(process as unknown as ChildProcess, process);
    this.process = process;
  }
}

export class FakeWorker extends ChildProcessHandle {
  readonly role = 'worker' as const;
  protected readonly bootedAt = 'listening';
  readonly process: FakeProcess;
  #candidate: boolean;

  constructor(candidate = false, process = new FakeProcess()) {
    super(process as unknown as ChildProcess, process);
    this.process = process;
    this.#candidate = candidate;
  }

  get candidate(): boolean {
    return this.#candidate;
  }

  admit(): void {
    this.#candidate = false;
  }

  get inService(): boolean {
    return !this.#candidate && !this.retired && this.state !== 'stopping' && this.state !== 'dead';
  }

  /** As WorkerProcess's: a message with a socket (the listen broker's 'listen-on'). */
  sendWithHandle(message: MasterMessage, handle: RawHandle): boolean {
    return this.sendHandle(message, handle);
  }

  /** As WorkerProcess's: a connection from the round-robin listener, written at once. */
  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void {
    if (!this.sendHandle({ clutch: 'connection' }, handle, done)) queueMicrotask(() => done(new Error(`the channel to worker ${this.pid} is closed`)));
  }

  /** The worker boots and serves (what its 'ready' and the listen broker do). */
  serve(): void {
    this.booted();
    this.listening();
  }
}

/** A logger that keeps its lines. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...args: unknown[]) =>
      lines.push(`${level} ${format(message, ...args)}`);
  return { lines, debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Lets pending promise continuations run. */
export const settle = () => new Promise((r) => setImmediate(r));
