import { EventEmitter } from 'node:events';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import { Ready } from 'get-ready';
import { bootProcess, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import { Lifecycle } from './lifecycle.js';
import { Messenger } from './messenger.js';

/**
 * The agent: the one process of the cluster for singleton work (connections that must exist once,
 * leaders, timers). Booted through the lifecycle hooks of agent.ts.
 */
export class Agent extends EventEmitter implements Bootable {
  readonly type = 'agent' as const;
  readonly baseDir: string;
  readonly env: string;
  name: string;
  config!: ClutchConfig;
  readonly logger: Logger;
  readonly messenger: Messenger;
  readonly lifecycle: Lifecycle;
  readonly #ready = new Ready();

  constructor(options: FrameworkStartOptions) {
    super();
    this.baseDir = options.baseDir;
    this.env = options.env;
    this.name = options.title;
    this.logger = options.logger;
    this.lifecycle = new Lifecycle({ logger: this.logger, timeout: 10_000 });
    this.messenger = new Messenger(options.transport, { logger: this.logger, pids: options.pids, requestTimeout: 5_000 });
  }

  /** Resolves once the agent is ready (after willReady). */
  ready(): Promise<void> {
    return this.#ready.ready();
  }

  async boot(): Promise<void> {
    try {
      await bootProcess(this, 'agent', { loadFiles: async () => {}, markReady: () => this.#ready.ready(true) });
    } catch (err) {
      this.#ready.ready(err as Error);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.lifecycle.run('beforeClose');
    this.messenger.close();
  }
}
