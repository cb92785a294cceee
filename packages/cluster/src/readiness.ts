import type { ChildHandle } from './child-handle.js';
import type { Children } from './children.js';
import type { CheckState } from './protocol.js';
import type { WorkerProcess } from './worker-process.js';

/** What /readyz answers, as JSON (docs/operations.md, "Health, readiness …"). */
export interface ReadinessReport {
  ready: boolean;
  /** Why not, one line each: a failing check with its process, a slot without a ready worker, a stop. */
  failing: string[];
  /** Worker slots that must be ready (config.cluster.health.minReady; all by default). */
  minReady: number;
  readySlots: number;
  agent: { pid: number; checks: Record<string, Omit<CheckState, 'name'>> } | null;
  workers: Array<{ slot: number; pid: number; ready: boolean; checks: Record<string, Omit<CheckState, 'name'>> }>;
}

/** What readiness reads of the master. */
export interface ReadinessHost {
  children: Pick<Children, 'agent' | 'bySlot'>;
  /** How many worker slots the cluster runs. */
  slots(): number;
  /** The project's minReady, if it set one. */
  minReady(): number | undefined;
  /** The master's own verdict: started, no stop asked for, a worker in the rotation. */
  masterReady(): string | null;
  /** False while the worker misses its heartbeats (the watchdog's word). */
  responsive(worker: WorkerProcess): boolean;
}

/**
 * Readiness that tells the truth: the master's own state, each process's checks
 * (`app.health.check` in app.ts and agent.ts, reported whenever one changes), and how many worker
 * slots have a worker that serves, answers its heartbeats and passes its checks. The cluster is
 * ready while the agent's checks pass and at least `minReady` slots are ready; a check that has not
 * answered yet counts as failing. Liveness (/livez) never looks here.
 */
export class Readiness {
  readonly #host: ReadinessHost;
  readonly #checks = new WeakMap<ChildHandle, CheckState[]>();

  constructor(host: ReadinessHost) {
    this.#host = host;
  }

  /** A child's checks changed. */
  report(child: ChildHandle, checks: CheckState[]): void {
    this.#checks.set(child, checks);
  }

  verdict(): ReadinessReport {
    // What no number of ready workers makes up for: the master's state, the agent and its checks.
    const cluster: string[] = [];
    const master = this.#host.masterReady();
    if (master) cluster.push(master);
    const agent = this.#host.children.agent;
    const agentView = agent && agent.state !== 'dead' ? { pid: agent.pid, checks: this.#view(agent, `agent ${agent.pid}`, cluster) } : null;
    if (!agentView) cluster.push('no agent is up');
    // Why a slot is not ready: these block only below minReady.
    const slotReasons: string[] = [];
    const workers: ReadinessReport['workers'] = [];
    const readyIn = new Set<number>();
    const seen = new Set<number>();
    // A reload's step or a recycle: the new worker serves while its first checks still run and the old
    // one, whose checks passed, drains. The slot stays ready through it rather than flicker to 503.
    const drainingReady = new Set<number>();
    for (const { worker, slot } of this.#host.children.bySlot())
      if (!worker.inService && worker.state !== 'dead' && (this.#checks.get(worker) ?? []).every((c) => c.ok === true)) drainingReady.add(slot);
    for (const { worker, slot } of this.#host.children.bySlot()) {
      if (!worker.inService) continue;
      seen.add(slot);
      const reasons: string[] = [];
      const checks = this.#view(worker, `worker ${worker.pid}, slot ${slot}`, reasons);
      const pendingOnly = reasons.length > 0 && Object.values(checks).every((c) => c.ok !== false);
      if (worker.state !== 'listening') reasons.push(`worker ${worker.pid} (slot ${slot}) does not serve yet`);
      else if (!this.#host.responsive(worker)) reasons.push(`worker ${worker.pid} (slot ${slot}) misses its heartbeats`);
      else if (pendingOnly && drainingReady.has(slot)) reasons.length = 0;
      if (reasons.length === 0) readyIn.add(slot);
      slotReasons.push(...reasons);
      workers.push({ slot, pid: worker.pid, ready: reasons.length === 0, checks });
    }
    const slots = this.#host.slots();
    for (let slot = 0; slot < slots; slot++) if (!seen.has(slot)) slotReasons.push(`slot ${slot} has no worker`);
    const minReady = Math.max(1, Math.min(this.#host.minReady() ?? slots, slots));
    const ready = cluster.length === 0 && readyIn.size >= minReady;
    return { ready, failing: [...cluster, ...slotReasons], minReady, readySlots: readyIn.size, agent: agentView, workers };
  }

  /** A process's checks as /readyz shows them; each failing one is added to `failing`. */
  #view(child: ChildHandle, who: string, failing: string[]): Record<string, Omit<CheckState, 'name'>> {
    const out: Record<string, Omit<CheckState, 'name'>> = {};
    for (const { name, ...state } of this.#checks.get(child) ?? []) {
      out[name] = state;
      if (state.ok === null) failing.push(`check "${name}" (${who}) has not answered yet`);
      else if (!state.ok) failing.push(`check "${name}" (${who}) failed: ${state.error ?? 'false'}`);
    }
    return out;
  }
}
