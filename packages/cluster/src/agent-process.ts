import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ChildHandle, ExitInfo, ProcessState } from './child-handle.js';
import type { LogHealth } from './log-sink.js';
import type { MasterMessage } from './protocol.js';

export interface AgentProcessEvents {
  message: [raw: unknown];
  exit: [info: ExitInfo];
}

/** The master's handle on the agent: a child_process.fork of the agent entry. */
export class AgentProcess extends EventEmitter<AgentProcessEvents> implements ChildHandle {
  readonly role = 'agent' as const;
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  state: ProcessState = 'starting';
  retiring = false;
  logHealth: LogHealth = { dropped: 0, lastError: null };
  killedFor: 'stalled' | null = null;
  leftOnItsOwn = false;
  readonly #child: ChildProcess;

  constructor(entry: string, env: NodeJS.ProcessEnv, execArgv: string[]) {
    super();
    this.#child = fork(entry, [], { env, execArgv, serialization: 'json' });
    // fork() throws synchronously on a bad entry; a pid is always set here on Linux.
    this.pid = this.#child.pid ?? 0;
    this.#child.on('message', (raw) => this.emit('message', raw));
    // An IPC write error (the child just died) must not crash the master; the exit event follows.
    this.#child.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.state = 'dead';
        const info = { code, signal };
        // Resolve first: a throwing exit listener must not leave terminate() waiting forever.
        resolve(info);
        this.emit('exit', info);
      });
    });
  }

  send(message: MasterMessage, written?: (err: Error | null) => void): boolean {
    if (!this.#child.connected) return false;
    if (written) this.#child.send(message, written);
    else this.#child.send(message);
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }
}
