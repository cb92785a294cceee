import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { deferBoot, exitError, type Boot, type BootView } from './child-boot.js';
import { Coalescer } from './coalesce.js';
import type { SerializedError } from './errors.js';
import type { LogHealth } from './log-sink.js';
import { ForwardState } from './forward-state.js';
import type { MasterMessage, StopMessage } from './protocol.js';

/**
 * The life of a child as the master tracks it, always forward:
 * `booting` (forked, loading) → `ready` (booted: messages flow to it) → `listening` (a worker serves
 * HTTP) → `stopping` (ordered to stop) → `dead`. The agent skips `listening`; any state may go to
 * `stopping` or `dead`.
 */
export type ChildState = 'booting' | 'ready' | 'listening' | 'stopping' | 'dead';

const RANK: Record<ChildState, number> = { booting: 0, ready: 1, listening: 2, stopping: 3, dead: 4 };

/** Whether messages are delivered to a child in this state. */
export function takesMessages(state: ChildState): boolean {
  return state === 'ready' || state === 'listening';
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What the relay needs of a child: who it is, whether it takes messages, and a channel. */
export interface Peer {
  readonly role: 'agent' | 'worker';
  readonly pid: number;
  readonly state: ChildState;
  /**
   * Sends a message if the channel is open; returns false when it is not. `written` runs once the
   * message has left the master (written to the channel), or with an error if it never will.
   */
  send(message: MasterMessage, written?: (err: Error | null) => void): boolean;
}

/** The master's view of one child process, agent or worker. Read-only: only the handle changes what it holds. */
export interface ChildHandle extends Peer {
  /** True when the process said it is draining without the master's order (a SIGTERM from someone else). */
  readonly leftOnItsOwn: boolean;
  /** Set when the master killed this process because its watchdog found it stalled: the reason of its replacement. */
  readonly killedFor: 'stalled' | null;
  /** Lines this process could not write, as it last reported (a full disk). */
  readonly logHealth: LogHealth;
  /** Whether the master ends this process on purpose (a reload, a recycle): its exit is not a crash. */
  readonly retired: boolean;
  /** When the process was forked (ms since epoch). */
  readonly startedAt: number;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<ExitInfo>;
  /** Sends a signal to the process; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
}

export interface ChildEvents {
  message: [raw: unknown, handle?: unknown];
  exit: [info: ExitInfo];
}

/**
 * The one owner of a child's state: its place in the life above, its boot (what the master waits
 * for — settled here, as the child reaches `bootedAt` or dies), its stop order, and whether its exit
 * is expected. Every transition and every flag is set here; the rest of the master only reads them.
 */
export abstract class ChildProcessHandle extends EventEmitter<ChildEvents> implements ChildHandle {
  abstract readonly role: 'agent' | 'worker';
  /** The state in which this child counts as booted: `ready` for the agent, `listening` for a worker. */
  protected abstract readonly bootedAt: 'ready' | 'listening';
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  readonly #boot: Boot = deferBoot();
  #logHealth: LogHealth = { dropped: 0, lastError: null };
  #killedFor: 'stalled' | null = null;
  #leftOnItsOwn = false;
  readonly #state = new ForwardState<ChildState>(RANK, 'booting');
  #stopOrder: StopMessage | null = null;
  /** What this turn sends the child, written as one (a channel closed meanwhile fails the callbacks). */
  readonly #outbox = new Coalescer<MasterMessage>((message, written) => {
    if (this.#child.connected) this.#child.send(message, undefined, written);
    else written?.(new Error('the IPC channel closed'));
  });
  #retired = false;
  readonly #child: ChildProcess;

  /**
   * `child` is the forked process; `source` emits its 'message' and 'exit' events (the process itself,
   * or the node:cluster Worker around it, whose 'exit' comes once the cluster module let go of it).
   */
  protected constructor(child: ChildProcess, source: EventEmitter) {
    super();
    this.#child = child;
    // fork() throws synchronously on a bad entry; a pid is always set here on Linux.
    this.pid = child.pid ?? 0;
    source.on('message', (raw: unknown, handle?: unknown) => this.emit('message', raw, handle));
    // An IPC write error (the child just died) must not crash the master; the exit event follows.
    source.on('error', () => {});
    this.exited = new Promise((resolve) => {
      source.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        this.#state.to('dead');
        const info = { code, signal };
        // A death before the boot ended fails it, with the child's own boot error when it sent one.
        if (!this.#boot.done) this.#boot.reject(exitError(this, code, signal));
        // Resolve first: a throwing exit listener must not leave terminate() waiting forever.
        resolve(info);
        this.emit('exit', info);
      });
    });
  }

  get state(): ChildState {
    return this.#state.now;
  }

  /** Settles when the child is ready (agent) or listening (worker), or with why it died before. */
  get boot(): BootView {
    return this.#boot;
  }

  get logHealth(): LogHealth {
    return this.#logHealth;
  }

  get killedFor(): 'stalled' | null {
    return this.#killedFor;
  }

  get leftOnItsOwn(): boolean {
    return this.#leftOnItsOwn;
  }

  #to(next: ChildState): boolean {
    if (!this.#state.to(next)) return false;
    if (next === this.bootedAt) this.#boot.resolve();
    return true;
  }

  /** The child booted. False when it was ordered to stop meanwhile (it is sent the order again) or is gone. */
  booted(): boolean {
    if (this.#state.now === 'stopping') this.resendStop();
    return this.#to('ready');
  }

  /** The worker serves. False when it was ordered to stop meanwhile (it is sent the order again) or is gone. */
  listening(): boolean {
    if (this.#state.now === 'stopping') this.resendStop();
    return this.#to('listening');
  }

  /** The child said why it cannot boot (`boot-error`); its exit follows, and fails its boot with it. */
  bootFailed(error: SerializedError): void {
    this.#boot.error = error;
  }

  /** The child said it drains; without the master's order, it was someone else's SIGTERM. */
  leaving(): void {
    if (this.#state.now !== 'stopping') this.#leftOnItsOwn = true;
  }

  /** The child reported the lines it could not write. */
  reportLogHealth(health: LogHealth): void {
    this.#logHealth = health;
  }

  /** The watchdog found it stalled: it is killed, and `stalled` is the reason of its replacement. */
  killStalled(): void {
    this.#killedFor = 'stalled';
    this.kill('SIGKILL');
  }

  /** The master orders this child to stop: over IPC, else with SIGTERM. */
  orderStop(order: StopMessage): void {
    this.#to('stopping');
    this.#stopOrder = order;
    if (!this.send(order)) this.kill('SIGTERM');
  }

  /** Sends the stop order again (a child that was still loading may have missed the first). */
  resendStop(): void {
    if (this.#stopOrder) this.send(this.#stopOrder);
  }

  /** The master ends this process on purpose (a reload, a recycle): its exit is not a crash. */
  retire(): void {
    this.#retired = true;
  }

  /** Whether the master ended it on purpose. */
  get retired(): boolean {
    return this.#retired;
  }

  /** Sends a message, coalesced with the others of this turn (coalesce.ts); false when the channel is closed. */
  send(message: MasterMessage, written?: (err: Error | null) => void): boolean {
    if (!this.#child.connected) return false;
    this.#outbox.push(message, written);
    return true;
  }

  /** Sends a message with a raw handle (a socket), after what waits in the outbox; false when the channel is closed. */
  protected sendHandle(message: MasterMessage, handle: unknown, written?: (err: Error | null) => void): boolean {
    if (!this.#child.connected) return false;
    this.#outbox.flush();
    this.#child.send(message, handle as never, written);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }
}
