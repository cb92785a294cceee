import type { LogHealth } from './log-sink.js';
import type { MasterMessage } from './protocol.js';

/** The life of a child as the master tracks it. Messages flow to a child once it is `ready`. */
export type ProcessState = 'starting' | 'ready' | 'stopping' | 'dead';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The master's view of one child process, agent or worker. */
export interface ChildHandle {
  readonly role: 'agent' | 'app';
  readonly pid: number;
  state: ProcessState;
  /** Set when the master stops this process on purpose (reload): its exit is not a crash. */
  retiring: boolean;
  /** Set when the process said it is draining without the master's order (a SIGTERM from someone else). */
  leftOnItsOwn: boolean;
  /** Set when the master kills this process because its watchdog found it stalled: the reason of its replacement. */
  killedFor: 'stalled' | null;
  /** Lines this process could not write, as it last reported (a full disk). */
  logHealth: LogHealth;
  /** When the process was forked (ms since epoch). */
  readonly startedAt: number;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<ExitInfo>;
  /**
   * Sends a message if the channel is open; returns false when it is not. `written` runs once the
   * message has left the master (written to the channel), or with an error if it never will.
   */
  send(message: MasterMessage, written?: (err: Error | null) => void): boolean;
  /** Sends a signal to the process; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
}
