import type { AgentProcess } from './agent-process.js';
import type { Child, Children } from './children.js';
import { isBatch } from './coalesce.js';
import { ClusterErrorCode } from './errors.js';
import type { ClusterSettings } from './framework.js';
import type { ListenBroker } from './listen-broker.js';
import type { Logger } from './logger.js';
import type { Monitor } from './monitor.js';
import type { Profiles } from './profiles.js';
import { checkChildMessage } from './protocol-check.js';
import type { ChildMessage } from './protocol.js';
import type { Readiness } from './readiness.js';
import type { Relay } from './relay.js';
import type { RawHandle } from './round-robin.js';
import type { Watchdog } from './watchdog.js';
import type { WorkerProcess } from './worker-process.js';

type Handler<C, K extends ChildMessage['clutch']> = (child: C, message: Extract<ChildMessage, { clutch: K }>, socket?: unknown) => void;

/** One handler per kind of child message, checked by the compiler against the protocol; one table per role. */
export type Dispatch<C extends Child> = { [K in ChildMessage['clutch']]: Handler<C, K> };

/** The parts of the master a child's message goes to. */
export interface DispatchParts {
  readonly relay: Relay;
  readonly watchdog: Watchdog;
  readonly listen: ListenBroker;
  readonly monitor: Monitor;
  readonly children: Children;
  readonly profiles: Profiles;
  readonly readiness: Readiness;
  readonly logger: Logger;
  /** The project's config, as the agent read it. */
  applySettings(settings: ClusterSettings): void;
}

/** What both roles send alike. */
function common<C extends Child>(parts: DispatchParts): Omit<Dispatch<C>, 'ready' | 'bound' | 'listen' | 'leaving' | 'leader' | 'schedule-run' | 'preloaded'> {
  return {
    heartbeat: (child, message) => parts.watchdog.beat(child, message),
    metrics: (_child, message) => parts.monitor.received(message),
    ack: (child, message) => parts.relay.ack(child, message.seq),
    barrier: (child, message) => {
      child.send({ clutch: 'barrier', id: message.id });
    },
    'boot-error': (child, message) => child.bootFailed(message.error),
    send: (child, message) => parts.relay.route(child, message),
    reply: (child, message) => parts.relay.reply(child, message),
    'log-health': (child, message) => child.reportLogHealth({ dropped: message.dropped, lastError: message.error }),
    'profile-data': (child, message) => parts.profiles.data(child, message),
    checks: (child, message) => parts.readiness.report(child, message.checks),
  };
}

/** Where each message from the agent goes. */
export function agentDispatch(parts: DispatchParts): Dispatch<AgentProcess> {
  const workersOnly = (child: AgentProcess, message: ChildMessage) =>
    parts.logger.warn('[%s] the agent %d sent "%s"; only workers serve HTTP', ClusterErrorCode.IPC_MALFORMED, child.pid, message.clutch);
  return {
    ...common<AgentProcess>(parts),
    ready: (agent, message) => {
      if (!agent.booted()) return;
      parts.relay.markReady(agent);
      if (message.settings) parts.applySettings(message.settings);
      parts.watchdog.watch(agent);
    },
    leaving: (agent) => agent.leaving(),
    leader: (agent, message) => {
      if (agent === parts.children.agent) parts.monitor.leader(agent, message);
    },
    'schedule-run': (_agent, message) => parts.monitor.scheduleRan(message),
    bound: workersOnly,
    listen: workersOnly,
    preloaded: workersOnly,
  };
}

/** Where each message from a worker goes. */
export function workerDispatch(parts: DispatchParts): Dispatch<WorkerProcess> {
  return {
    ...common<WorkerProcess>(parts),
    // A worker's boot ends once it listens (the listen broker), not here.
    ready: (worker) => {
      if (worker.booted()) parts.relay.markReady(worker);
    },
    preloaded: (worker) => worker.preloaded(),
    leaving: (worker) => {
      worker.leaving();
      parts.listen.leave(worker);
    },
    leader: (worker) => parts.logger.warn('[%s] worker %d sent "leader"; only the agent leads', ClusterErrorCode.IPC_MALFORMED, worker.pid),
    'schedule-run': (worker) => parts.logger.warn('[%s] worker %d sent "schedule-run"; only the agent schedules', ClusterErrorCode.IPC_MALFORMED, worker.pid),
    bound: (worker, message, socket) => void parts.listen.bound(worker, message, socket as RawHandle | undefined),
    listen: (worker, message) => void parts.listen.listen(worker, message.listen),
  };
}

/** Checks a child's message against the protocol (a bad one is logged and dropped, never thrown) and dispatches it by the child's role. */
export function dispatchChildMessage(
  tables: { agent: Dispatch<AgentProcess>; worker: Dispatch<WorkerProcess> },
  parts: DispatchParts,
  child: Child,
  raw: unknown,
  socket: unknown,
): void {
  if (isBatch(raw)) {
    // Several messages written as one (coalesce.ts), each checked and dispatched in order; a batch holds no batch.
    for (const message of raw.messages) {
      if (isBatch(message)) parts.logger.warn('[%s] ignored a batch inside a batch from %s %d', ClusterErrorCode.IPC_MALFORMED, child.role, child.pid);
      else dispatchChildMessage(tables, parts, child, message, undefined);
    }
    return;
  }
  const problem = checkChildMessage(raw);
  if (problem !== null) {
    parts.logger.warn('[%s] ignored a message from %s %d: %s', ClusterErrorCode.IPC_MALFORMED, child.role, child.pid, problem);
    return;
  }
  const message = raw as ChildMessage;
  // Acks ride on messages the child sends anyway.
  if ((message.clutch === 'send' || message.clutch === 'reply') && message.ack !== undefined) parts.relay.ack(child, message.ack);
  type Any = (c: Child, m: ChildMessage, socket: unknown) => void;
  if (child.role === 'agent') (tables.agent[message.clutch] as Any)(child, message, socket);
  else (tables.worker[message.clutch] as Any)(child, message, socket);
}
