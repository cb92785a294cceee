import type { Logger } from '@clutch/cluster';
import { withTimeout } from '@clutch/cluster/with-timeout';
import { ClutchError, CoreErrorCode } from './errors.js';

/** The hooks of a boot class, in the order they run. */
export const HOOKS = ['configWillLoad', 'configDidLoad', 'didLoad', 'willReady', 'didReady', 'serverDidReady', 'beforeClose'] as const;
export type HookName = (typeof HOOKS)[number];

/**
 * A boot class: `export default class { constructor(app) {} async didLoad() {} … }` in app.ts
 * (workers) or agent.ts (the agent). Every hook is optional and awaited.
 */
export type BootHooks = { [K in HookName]?: () => unknown };

export interface BootEntry {
  /** Who this boot belongs to, for error messages: the file path. */
  readonly name: string;
  readonly hooks: BootHooks;
}

/** One measured hook run, kept so a slow start can be explained. */
export interface HookTiming {
  name: string;
  hook: HookName;
  ms: number;
}

/**
 * Runs the hooks of every boot in load order (beforeClose in reverse), one at a time, each with a
 * timeout. A failure or a timeout stops the phase with a coded error naming the file and the hook.
 */
export class Lifecycle {
  readonly timings: HookTiming[] = [];
  readonly #boots: BootEntry[] = [];
  readonly #logger: Logger;
  #timeout: number;
  /** Phases run one after another: a stop during serverDidReady waits for it, then runs beforeClose. */
  #phase: Promise<void> = Promise.resolve();

  constructor(options: { logger: Logger; timeout: number }) {
    this.#logger = options.logger;
    this.#timeout = options.timeout;
  }

  set timeout(ms: number) {
    this.#timeout = ms;
  }

  add(entry: BootEntry): void {
    this.#boots.push(entry);
  }

  /**
   * Runs one hook across all boots, after any phase still running. beforeClose runs every boot even
   * when one fails, and never throws.
   */
  run(hook: HookName): Promise<void> {
    const phase = this.#phase.then(() => this.#runPhase(hook));
    this.#phase = phase.catch(() => {});
    return phase;
  }

  async #runPhase(hook: HookName): Promise<void> {
    if (hook === 'beforeClose') {
      for (const boot of [...this.#boots].reverse()) {
        await this.#runOne(boot, hook).catch((err: unknown) => this.#logger.error('%s', err instanceof Error ? err.message : err));
      }
      return;
    }
    for (const boot of this.#boots) await this.#runOne(boot, hook);
  }

  async #runOne(boot: BootEntry, hook: HookName): Promise<void> {
    const fn = boot.hooks[hook];
    if (typeof fn !== 'function') return;
    const began = performance.now();
    const timeout = this.#timeout;
    try {
      await withTimeout(
        Promise.resolve().then(() => fn.call(boot.hooks)),
        timeout,
        () => new ClutchError(CoreErrorCode.HOOK_TIMEOUT, `${hook} in ${boot.name} did not finish within ${timeout}ms`),
      );
    } catch (err) {
      if (err instanceof ClutchError && err.code === CoreErrorCode.HOOK_TIMEOUT) throw err;
      // A coded cause keeps its code in the message (an egg name Clutch lacks, a bad singleton config).
      const causeCode = (err as { code?: unknown } | null)?.code;
      const code = err instanceof Error && typeof causeCode === 'string' ? ` [${causeCode}]` : '';
      const reason = `${err instanceof Error ? err.message : String(err)}${code}`;
      throw new ClutchError(CoreErrorCode.HOOK_FAILED, `${hook} in ${boot.name} failed: ${reason}`, { cause: err });
    } finally {
      const ms = performance.now() - began;
      this.timings.push({ name: boot.name, hook, ms });
      this.#logger.debug('%s %s took %sms', boot.name, hook, ms.toFixed(1));
    }
  }
}
