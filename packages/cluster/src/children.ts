import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AgentProcess } from './agent-process.js';
import type { ExitInfo } from './child-handle.js';
import type { TelemetrySettings } from './framework.js';
import { LOG_FORMAT_ENV, type Logger } from './logger.js';
import { CHILD_OPTIONS_ENV, type ChildOptions, type ClusterOptions } from './options.js';
import { resolveTelemetryHook, TELEMETRY_ENV, telemetryEnv, telemetryOn } from './telemetry-switch.js';
import { WorkerProcess } from './worker-process.js';

const AGENT_ENTRY = fileURLToPath(new URL('./child/agent-main.js', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('./child/worker-main.js', import.meta.url));

/** A worker's slot, or 'agent': a replacement takes the slot (and the backoff) of the dead. */
export type Slot = number | 'agent';

/** A child of the master, told apart by its `role`. */
export type Child = AgentProcess | WorkerProcess;

/** One event per role: each has its own handler in the master, and none needs to ask which it got. */
export interface ChildrenEvents {
  'agent-forked': [agent: AgentProcess];
  'worker-forked': [worker: WorkerProcess, slot: number];
  message: [child: Child, raw: unknown, socket: unknown];
  /** The agent exited (it is already out of the registry). */
  'agent-exit': [agent: AgentProcess, info: ExitInfo];
  /** A worker exited (it is already out of the registry). */
  'worker-exit': [worker: WorkerProcess, info: ExitInfo, slot: number];
}

/** Drops inspector flags so children do not fight over the master's debug port; with telemetry, its hook goes first. */
function childExecArgv(telemetryHook: string | null = null): string[] {
  const inherited = process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
  return telemetryHook ? ['--import', telemetryHook, ...inherited] : inherited;
}

/**
 * The master's processes: the agent, the workers and their slots. It forks them with their
 * environment and reports what they say and when they exit; what that means is the master's call.
 */
export class Children extends EventEmitter<ChildrenEvents> {
  #agent: AgentProcess | null = null;
  readonly #slots = new Map<WorkerProcess, number>();
  readonly #options: ClusterOptions;
  readonly #logger: Logger;
  /** The env files' values (see env-files.ts). */
  #fileEnv: NodeJS.Dict<string> = {};
  /** The project's `telemetry` config, once the agent reported it (see telemetry-switch.ts). */
  #telemetry: TelemetrySettings | undefined;
  #telemetryHook: string | null = null;
  /** The children forked with the hook. */
  readonly #traced = new WeakSet<Child>();
  /**
   * What the master decides per fork, read at each one: the heartbeat period (the watchdog's stall
   * timeout may change), the memory limit, and whether it reports a boot error itself (during the start).
   */
  readonly #forkSettings: () => Pick<ChildOptions, 'heartbeatMs' | 'bootErrorReported' | 'maxMemory'>;

  constructor(options: ClusterOptions, logger: Logger, forkSettings: () => Pick<ChildOptions, 'heartbeatMs' | 'bootErrorReported' | 'maxMemory'>) {
    super();
    this.#options = options;
    this.#logger = logger;
    this.#forkSettings = forkSettings;
  }

  /** Points node:cluster at the worker entry; once, before the first worker. */
  setup(): void {
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv: childExecArgv(), serialization: 'json' });
  }

  get agent(): AgentProcess | null {
    return this.#agent;
  }

  get workers(): WorkerProcess[] {
    return [...this.#slots.keys()];
  }

  /** The agent (if any) and every worker. */
  all(): Child[] {
    return this.#agent ? [this.#agent, ...this.#slots.keys()] : [...this.#slots.keys()];
  }

  /** The processes still booting, named ("agent 12, worker 13"), or '' (what a start timeout reports). */
  booting(): string {
    return this.all()
      .filter((c) => c.state !== 'dead' && !c.boot.done)
      .map((c) => `${c.role} ${c.pid}`)
      .join(', ');
  }

  slotOf(worker: WorkerProcess): number {
    return this.#slots.get(worker)!;
  }

  /** The worker slots, in order. */
  slots(): number[] {
    return [...new Set(this.#slots.values())].sort((a, b) => a - b);
  }

  /** The workers serving in a slot now (usually one; two for a moment during a replacement). */
  inService(slot: number): WorkerProcess[] {
    return this.workers.filter((w) => this.#slots.get(w) === slot && w.inService);
  }

  /** Every worker with its slot, by slot and then age. */
  bySlot(): Array<{ worker: WorkerProcess; slot: number }> {
    return [...this.#slots].map(([worker, slot]) => ({ worker, slot })).sort((a, b) => a.slot - b.slot || a.worker.startedAt - b.worker.startedAt);
  }

  /** The env files' values, read by the master for the start or a reload: every process forked from now on gets them. */
  setFileEnv(values: NodeJS.Dict<string>): void {
    this.#fileEnv = values;
  }

  /** The project's telemetry config: the processes forked from now on follow it (CLUTCH_TELEMETRY wins). */
  setTelemetry(settings: TelemetrySettings | undefined): void {
    this.#telemetry = settings;
    const agent = this.#agent;
    if (agent && !this.#traced.has(agent) && telemetryOn(this.#env(), settings))
      this.#logger.warn(
        'telemetry is on from the config: the workers load OpenTelemetry; agent %d started before it read the config and is not traced (set %s=1 to trace it from its start; docs/operations.md)',
        agent.pid,
        TELEMETRY_ENV,
      );
  }

  forkAgent(): AgentProcess {
    const { env, hook } = this.#forkEnv('agent');
    const agent = new AgentProcess(AGENT_ENTRY, env, childExecArgv(hook));
    if (hook) this.#traced.add(agent);
    this.#agent = agent;
    agent.on('message', (raw, socket) => this.emit('message', agent, raw, socket));
    agent.once('exit', (info) => this.emit('agent-exit', agent, info));
    this.emit('agent-forked', agent);
    this.#logger.debug('forked agent %d', agent.pid);
    return agent;
  }

  /**
   * A `candidate` is a reload's new worker: not in service until admitted. A `gated` one (the start's,
   * forked while the agent boots) loads its modules and boots once `release`d.
   */
  forkWorker(slot: number, candidate = false, gated = false): WorkerProcess {
    const { env, hook } = this.#forkEnv('worker', slot, gated);
    // node:cluster forks with the settings of its last setupPrimary: the hook is decided per fork.
    cluster.setupPrimary({ execArgv: childExecArgv(hook) });
    const worker = new WorkerProcess(env, candidate);
    if (hook) this.#traced.add(worker);
    this.#slots.set(worker, slot);
    worker.on('message', (raw, socket) => this.emit('message', worker, raw, socket));
    worker.once('exit', (info) => {
      this.#slots.delete(worker);
      this.emit('worker-exit', worker, info, slot);
    });
    this.emit('worker-forked', worker, slot);
    this.#logger.debug('forked worker %d (slot %d)', worker.pid, slot);
    return worker;
  }

  /**
   * Lets a gated worker boot: the agent is ready, and the worker gets what the project's config
   * decided since its fork. False when it must be forked again instead: the config turned telemetry
   * on, and OpenTelemetry loads at a process's start.
   */
  release(worker: WorkerProcess): boolean {
    if (!this.#traced.has(worker) && telemetryOn(this.#env(), this.#telemetry)) return false;
    const { heartbeatMs, maxMemory } = this.#forkSettings();
    const format = process.env[LOG_FORMAT_ENV];
    // A worker that died meanwhile is not sent it: its boot says why it failed.
    worker.send({
      clutch: 'release',
      heartbeatMs,
      ...(maxMemory !== undefined ? { maxMemory } : {}),
      ...(format === 'json' || format === 'text' ? { logFormat: format } : {}),
    });
    return true;
  }

  /** A child's environment and, with telemetry on, the hook its command line imports first. */
  #forkEnv(role: 'agent' | 'worker', slot?: number, gated = false): { env: NodeJS.ProcessEnv; hook: string | null } {
    const env = this.#env(gated);
    if (!telemetryOn(env, this.#telemetry)) return { env, hook: null };
    this.#telemetryHook ??= resolveTelemetryHook(this.#options.baseDir);
    return { env: { ...env, ...telemetryEnv({ role, slot }) }, hook: this.#telemetryHook };
  }

  #env(gated = false): NodeJS.ProcessEnv {
    const child: ChildOptions = {
      baseDir: this.#options.baseDir,
      framework: this.#options.framework,
      env: this.#options.env,
      title: this.#options.title,
      stopTimeout: this.#options.stopTimeout,
      ...this.#forkSettings(),
      masterPid: process.pid,
      agentPid: this.#agent?.pid ?? null,
      ...(gated ? { gated } : {}),
    };
    // A variable in the master's own environment wins over an env file's, as with `node --env-file`.
    return { ...this.#fileEnv, ...process.env, [CHILD_OPTIONS_ENV]: JSON.stringify(child) };
  }
}
