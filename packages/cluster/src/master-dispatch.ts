import type { ChildProcessHandle } from './child-handle.js';
import type { Children } from './children.js';
import { ClusterErrorCode } from './errors.js';
import type { ClusterSettings } from './framework.js';
import type { ListenBroker } from './listen-broker.js';
import type { Logger } from './logger.js';
import type { Monitor } from './monitor.js';
import { checkChildMessage, type ChildMessage } from './protocol.js';
import type { Relay } from './relay.js';
import type { RawHandle } from './round-robin.js';
import type { Watchdog } from './watchdog.js';
import { WorkerProcess } from './worker-process.js';

/** One handler per kind of child message, checked by the compiler against the protocol. */
export type Dispatch = { [K in ChildMessage['clutch']]: (handle: ChildProcessHandle, message: Extract<ChildMessage, { clutch: K }>, socket?: unknown) => void };

/** The parts of the master a child's message goes to. */
export interface MasterParts {
  readonly relay: Relay;
  readonly watchdog: Watchdog;
  readonly listen: ListenBroker;
  readonly monitor: Monitor;
  readonly children: Children;
  readonly logger: Logger;
  /** The project's config, as the agent read it. */
  applySettings(settings: ClusterSettings): void;
}

/** The master's dispatch table: where each message from a child goes. */
export function masterDispatch(parts: MasterParts): Dispatch {
  return {
    ready: (handle, message) => {
      if (!handle.booted()) return;
      parts.relay.markReady(handle);
      if (handle.role === 'agent') {
        if (message.settings) parts.applySettings(message.settings);
        parts.watchdog.watch(handle);
        handle.boot.resolve();
      }
    },
    heartbeat: (handle, message) => parts.watchdog.beat(handle, message),
    bound: (handle, message, socket) => {
      if (handle instanceof WorkerProcess) void parts.listen.bound(handle, message, socket as RawHandle | undefined);
    },
    leaving: (handle) => {
      if (handle.state !== 'stopping') handle.leftOnItsOwn = true;
      if (handle instanceof WorkerProcess) parts.listen.leave(handle);
    },
    metrics: (_handle, message) => parts.monitor.received(message),
    leader: (handle, message) => {
      if (handle === parts.children.agent) parts.monitor.leader(handle, message);
    },
    ack: (handle, message) => parts.relay.ack(handle, message.seq),
    barrier: (handle, message) => {
      handle.send({ clutch: 'barrier', id: message.id });
    },
    'boot-error': (handle, message) => {
      handle.boot.error = message.error;
    },
    send: (handle, message) => parts.relay.route(handle, message),
    reply: (handle, message) => parts.relay.reply(handle, message),
    listen: (handle, message) => {
      if (handle instanceof WorkerProcess) void parts.listen.listen(handle, message.listen);
      else parts.logger.warn('[%s] the agent asked to listen; only workers serve HTTP', ClusterErrorCode.IPC_MALFORMED);
    },
    'log-health': (handle, message) => {
      handle.logHealth = { dropped: message.dropped, lastError: message.error };
    },
  };
}

/** Checks a child's message against the protocol (a bad one is logged and dropped, never thrown) and dispatches it. */
export function dispatchChildMessage(table: Dispatch, parts: MasterParts, handle: ChildProcessHandle, raw: unknown, socket: unknown): void {
  const problem = checkChildMessage(raw);
  if (problem !== null) {
    parts.logger.warn('[%s] ignored a message from %s %d: %s', ClusterErrorCode.IPC_MALFORMED, handle.role, handle.pid, problem);
    return;
  }
  const message = raw as ChildMessage;
  // Acks ride on messages the child sends anyway.
  if ((message.clutch === 'send' || message.clutch === 'reply') && message.ack !== undefined) parts.relay.ack(handle, message.ack);
  (table[message.clutch] as (h: ChildProcessHandle, m: ChildMessage, socket: unknown) => void)(handle, message, socket);
}
