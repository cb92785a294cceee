import { EventEmitter } from 'node:events';
import type { ChildTransport, FrameworkStartOptions, Logger } from '@clutch/cluster';
import { ProcessCore, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import { Leader } from './leader/leader.js';
import type { Lifecycle } from './lifecycle.js';
import type { HealthChecks } from './health-checks.js';
import type { Messenger } from './messenger.js';
import { loadExtend } from './loader/extend.js';
import type { FrameworkPlugin, PluginCatalog } from './loader/framework-plugin.js';
import type { LoadUnit } from './loader/plugins.js';
import { loadSchedules } from './loader/schedules.js';
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
  /** The framework's plugins (a wing installs its own); in the agent they bring config and, at most, app/extend/agent. */
  catalog: PluginCatalog = { plugins: [] };
  builtins: readonly FrameworkPlugin[] = [];
  readonly logger: Logger;
  readonly messenger: Messenger;
  /** Readiness checks: `/readyz` answers from them (docs/operations.md). */
  readonly health: HealthChecks;
  readonly lifecycle: Lifecycle;
  /** Whether this agent leads every cluster of the project (config.cluster.leader); set once the config is loaded. */
  leader!: Leader;
  #scheduler: Scheduler | null = null;
  readonly #core: ProcessCore;
  readonly #transport: ChildTransport;

  constructor(options: FrameworkStartOptions) {
    super();
    this.baseDir = options.baseDir;
    this.env = options.env;
    this.name = options.title;
    this.logger = options.logger;
    this.#core = new ProcessCore(options);
    this.lifecycle = this.#core.lifecycle;
    this.messenger = this.#core.messenger;
    this.health = this.#core.health;
    this.#transport = options.transport;
  }

  /** Resolves once the agent is ready (after willReady); with a callback, as egg's `agent.ready(fn)`. */
  ready(callback?: (err?: Error) => void): Promise<void> {
    const ready = this.#core.ready();
    if (callback) ready.then(() => callback(), callback);
    return ready;
  }

  /** egg's `agent.beforeStart(fn)`: `fn` runs after every file has loaded, and the agent is ready once it is done. */
  beforeStart(fn: () => unknown): void {
    this.#core.beforeStart(fn, this.logger);
  }

  /** egg's `agent.beforeClose(fn)`: `fn` runs at the stop, with the beforeClose hooks (the latest first). */
  beforeClose(fn: () => unknown): void {
    this.#core.beforeClose(fn);
  }

  async boot(): Promise<void> {
    await this.#core.boot(this, 'agent', {
      extend: async () => {
        for (const plugin of this.builtins) await plugin.extendAgent?.(this);
        await loadExtend(this.units, 'agent', this);
      },
      loadFiles: async () => {
        this.leader = await Leader.create(this.config.cluster.leader, this.logger, this.#transport);
        const transport = this.#transport;
        this.#scheduler = new Scheduler(this.messenger, this.logger, await loadSchedules(this.units), this.leader, (key, ms, ok) => {
          transport.send({ clutch: 'schedule-run', key, ms, ok });
        });
      },
    });
  }

  /** The cluster is ready: the election begins, serverDidReady hooks run, then the schedules start. */
  async serverDidReady(): Promise<void> {
    this.leader?.start();
    await this.lifecycle.run('serverDidReady');
    this.#scheduler?.start();
  }

  /** Stops the schedules, steps down as leader (releasing the lease), then runs beforeClose. */
  async close(): Promise<void> {
    await this.#scheduler?.stop(this.config?.hookTimeout ?? 10_000);
    await this.leader?.stop();
    await this.#core.close();
  }
}
