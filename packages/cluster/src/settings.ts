import type { ClusterSettings } from './framework.js';
import { DEFAULTS, type ClusterOptions } from './options.js';

/**
 * How the cluster runs, in one place: the master's options (the command line's flags) win over
 * what the project's config says (handed over by the agent when it is ready), which wins over the
 * defaults.
 */
export class EffectiveSettings {
  readonly #options: ClusterOptions;
  #project: ClusterSettings = {};

  constructor(options: ClusterOptions) {
    this.#options = options;
  }

  /** The project's config, as the agent read it. */
  apply(project: ClusterSettings): void {
    this.#project = project;
  }

  get drainDelay(): number {
    return this.#options.drainDelay ?? this.#project.drainDelay ?? DEFAULTS.drainDelay;
  }

  get stallTimeout(): number {
    return this.#options.stallTimeout ?? this.#project.stallTimeout ?? DEFAULTS.stallTimeout;
  }

  get maxMemory(): number | undefined {
    return this.#options.maxMemory ?? this.#project.maxMemory;
  }

  get scheduling(): 'rr' | 'os' {
    return this.#options.scheduling ?? this.#project.scheduling ?? 'rr';
  }

  /** Sticky sessions (sticky.ts): the command line's, else the project's, else off. */
  get sticky(): boolean {
    return this.#options.sticky ?? this.#project.sticky ?? false;
  }

  /** The health port: the command line's, else the project's; null for none. */
  get health(): { port: number; hostname?: string } | null {
    if (this.#options.healthPort !== undefined)
      return { port: this.#options.healthPort, ...(this.#options.healthHostname ? { hostname: this.#options.healthHostname } : {}) };
    return this.#project.health ?? null;
  }

  /** How many worker slots must be ready for /readyz to say 200 (the project's config.cluster.health.minReady); all when unset. */
  get minReady(): number | undefined {
    return this.#project.minReady;
  }

  get logFormat(): 'text' | 'json' | undefined {
    return this.#project.logFormat;
  }
}
