import { fork } from 'node:child_process';
import { ChildProcessHandle } from './child-handle.js';

/** The master's handle on the agent: a child_process.fork of the agent entry. */
export class AgentProcess extends ChildProcessHandle {
  readonly role = 'agent' as const;
  protected readonly bootedAt = 'ready';

  constructor(entry: string, env: NodeJS.ProcessEnv, execArgv: string[]) {
    const child = fork(entry, [], { env, execArgv, serialization: 'json' });
    super(child, child);
  }
}
