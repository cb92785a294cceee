import { EventEmitter } from 'node:events';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import { Ready } from 'get-ready';
import { bootProcess, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import { Lifecycle } from './lifecycle.js';
import { Messenger } from './messenger.js';
import type { LoadUnit } from './plugins.js';
import { loadSchedules } from './schedule.js';
import { Scheduler } from './scheduler.js';

/**
 * The agent: the one process of the cluster for singleton work (connections that must exist once,
 * leaders, timers). Booted through the lifecycle hooks of agent.ts; owns every schedule's timer.
 */
export class Agent extends EventEmitter implements Bootable {
  readonly type = 'agent' as const;
  readonly baseDir: string;
  readonly env: string;
  name: string;
  config!: ClutchConfig;
  units: LoadUnit[] = [];
  readonly logger: Logger;
  readonly messenger: Messenger;
  readonly lifecycle: Lifecycle;
  #scheduler: Scheduler | null = null;
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
      await bootProcess(this, 'agent', {
        loadFiles: async () => {
          this.#scheduler = new Scheduler(this.messenger, this.logger, await loadSchedules(this.units));
        },
        markReady: () => this.#ready.ready(true),
      });
    } catch (err) {
      this.#ready.ready(err as Error);
      throw err;
    }
  }

  /** The cluster is ready: serverDidReady hooks, then the schedules start. */
  async serverDidReady(): Promise<void> {
    await this.lifecycle.run('serverDidReady');
    this.#scheduler?.start();
  }

  async close(): Promise<void> {
    await this.#scheduler?.stop(this.config?.hookTimeout ?? 10_000);
    await this.lifecycle.run('beforeClose');
    this.messenger.close();
  }
}
