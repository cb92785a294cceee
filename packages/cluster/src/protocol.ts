/**
 * The IPC protocol between the master and its children, read by both sides. Every message is an
 * object whose `clutch` field names its type; anything else on the channel is not ours.
 */
import type { SerializedError } from './errors.js';
import type { ClusterSettings, ListenConfig } from './framework.js';
import type { HttpCounts } from './http-stats.js';
import type { ProfileDataMessage, ProfileMessage } from './operator-protocol.js';

/** Where a message goes: the agent, every worker, the agent and every worker, one worker, or a pid. */
export type MessageTarget = 'agent' | 'app' | 'all' | 'random' | number;
/** Who sent a delivered message. */
export type SenderRole = 'agent' | 'app' | 'master';

/** Child → master: the process finished booting (for a worker: the app is ready, listening follows). */
export interface ReadyMessage {
  clutch: 'ready';
  /** From the agent: what the project's config says about running the cluster (the CLI's flags win). */
  settings?: ClusterSettings;
}
/** Child → master: the process failed while booting; it exits right after. */
export interface BootErrorMessage {
  clutch: 'boot-error';
  error: SerializedError;
}
/**
 * Child → master: relay `action` to `to`. With `rid`, the receiver must answer with a reply.
 * `payload` is the data as JSON text, made once by the sender: the master relays it without parsing
 * or re-encoding it (a large message costs the master a string copy, not an object graph), and its
 * length is what the byte budgets count.
 */
export interface SendMessage {
  clutch: 'send';
  to: MessageTarget;
  action: string;
  payload?: string;
  /** The payload's size in bytes (UTF-8), as the sender counted it against its budget. */
  size?: number;
  rid?: number;
  trace?: string; // the sender's W3C traceparent, only with telemetry on (docs/operations.md)
  /** Piggybacked acknowledgement (see AckMessage): saves the agent a message of its own. */
  ack?: number;
}
/** Child → master: the answer to request `rid`, for the process `to`. */
export interface ReplyMessage {
  clutch: 'reply';
  to: number;
  rid: number;
  payload?: string;
  /** The payload's size in bytes (UTF-8), as the sender counted it against its budget. */
  size?: number;
  error?: SerializedError;
  /** Piggybacked acknowledgement (see AckMessage). */
  ack?: number;
}
/** Agent → master: every message up to `seq` was received and dispatched; the master keeps what it sent the agent until then (for a replacement). */
export interface AckMessage {
  clutch: 'ack';
  seq: number;
}
/**
 * Child → master → child: a barrier. Channels are ordered both ways, so once the master's echo arrives, everything the master sent
 * before it has been read — in particular a connection node:cluster was handing to a worker that has just closed its server, which
 * that worker must refuse (so the master passes it to another) before it may exit.
 */
export interface BarrierMessage {
  clutch: 'barrier';
  id: number;
}
/** Worker → master: serve HTTP here. The master binds the address once and hands this worker connections. */
export interface ListenMessage {
  clutch: 'listen';
  listen: ListenConfig;
}
/** Child → master: lines this process could not write (a full disk); shown by `app status`. */
export interface LogHealthMessage {
  clutch: 'log-health';
  dropped: number;
  error: string | null;
}
/**
 * Child → master, every `heartbeatMs`: proof that the event loop turns (the watchdog), and what
 * `app status` and /metrics show. CPU is cumulative (µs), the loop delay is over the last interval (ms).
 */
export interface HeartbeatMessage {
  clutch: 'heartbeat';
  cpu: { user: number; system: number };
  rss: number;
  heapUsed: number;
  heapTotal: number;
  loop: { mean: number; p99: number; max: number };
  /** A worker's responses so far (see HttpCounts). */
  http?: HttpCounts;
  /** A worker with load shedding on (config.cluster.overload): whether it sheds now, and its 503s so far. */
  shed?: ShedState;
}
export interface ShedState {
  active: boolean;
  total: number;
}
/** Worker → master: the answer to a metrics collection: the project's prom-client metrics as JSON, or null without prom-client. */
export interface MetricsMessage {
  clutch: 'metrics';
  id: number;
  metrics: unknown[] | null;
  /** The worker's responses as of now (fresher than its last heartbeat). */
  http?: HttpCounts;
}
/** Worker → master: this worker drains (the master's order, or someone's SIGTERM): hand it no more connections; the barrier that follows brings in the last ones. */
export interface LeavingMessage {
  clutch: 'leaving';
}
/**
 * Worker of the start → master: its modules are loaded; it waits for `release`. The worker asks, so
 * no release can be lost: a message that reaches a process still linking its modules has no listener.
 */
export interface PreloadedMessage {
  clutch: 'preloaded';
}
/** Agent → master: whether this cluster leads (config.cluster.leader), for `app status` and /metrics. */
export interface LeaderMessage {
  clutch: 'leader';
  leading: boolean;
  token: number | null;
  store: string;
  /** Elections and losses so far in this agent. */
  transitions: number;
}
/**
 * Worker → master, in the 'os' and reusePort modes: this worker listens on its own socket now. With
 * a handle (the socket it just bound), the master keeps a copy, never polling it: the socket stays
 * open — connections wait in its backlog — while workers come and go, and the next worker listens
 * on the same one. `error`: the bind failed (EADDRINUSE, …).
 */
export interface BoundMessage {
  clutch: 'bound';
  address?: ListenAddress;
  error?: SerializedError;
}
/** One readiness check's last result in a child (`app.health.check`). `ok` null: it has not answered yet. */
export interface CheckState {
  name: string;
  ok: boolean | null;
  /** Why it failed (its error's message, or a timeout), else null. */
  error: string | null;
  /** How long its last run took, ms. */
  ms: number;
  /** When its last run ended (ms since epoch); 0 before the first. */
  at: number;
}
/** Child → master: its readiness checks, sent whenever one of them changes. */
export interface ChecksMessage {
  clutch: 'checks';
  checks: CheckState[];
}
/** Agent → master: a schedule ran (its worker tasks ended): for /metrics and `app status`. */
export interface ScheduleRunMessage {
  clutch: 'schedule-run';
  key: string;
  ms: number;
  ok: boolean;
}
export type ChildMessage =
  | ProfileDataMessage
  | ScheduleRunMessage
  | ChecksMessage
  | BoundMessage
  | LeaderMessage
  | LeavingMessage
  | PreloadedMessage
  | ReadyMessage
  | BootErrorMessage
  | SendMessage
  | ReplyMessage
  | AckMessage
  | BarrierMessage
  | ListenMessage
  | LogHealthMessage
  | HeartbeatMessage
  | MetricsMessage;

/** Master → child: a message relayed from `pid` (with the sender's `trace`, when it sent one). */
export interface DeliverMessage extends Pick<SendMessage, 'trace'> {
  clutch: 'deliver';
  action: string;
  /** The data as the sender encoded it (JSON text); absent for undefined. */
  payload?: string;
  from: SenderRole;
  pid: number;
  rid?: number;
  /** Set on messages to the agent: the agent acknowledges it (see AckMessage). */
  seq?: number;
  /** Bytes given back to this process, riding on the delivery (see CreditMessage). */
  credits?: CreditMessage['credits'];
}
/** Master → child: the answer to this process's request `rid`. */
export interface DeliverReplyMessage {
  clutch: 'reply';
  rid: number;
  payload?: string;
  error?: SerializedError;
  from: SenderRole;
  pid: number;
  /** Set on messages to the agent: the agent acknowledges it (see AckMessage). */
  seq?: number;
  /** Bytes given back to this process, riding on the reply (see CreditMessage). */
  credits?: CreditMessage['credits'];
}
/** Master → child: the set of processes changed. */
export interface PidsMessage {
  clutch: 'pids';
  agent: number | null;
  workers: number[];
}
/** Master → child: the whole cluster is ready (or this replacement worker is); run serverDidReady. */
export interface ClusterReadyMessage {
  clutch: 'cluster-ready';
  url: string;
}
/**
 * Master → worker forked during the start while the agent boots (ChildOptions.gated): the agent is
 * ready, boot now. It carries what the project's config decided meanwhile (the agent read it).
 */
export interface ReleaseMessage {
  clutch: 'release';
  /** How often the worker sends a heartbeat, ms (the watchdog's stall timeout may come from the config). */
  heartbeatMs: number;
  /** The worker's memory limit (bytes), when one is set. */
  maxMemory?: number;
  /** The project's log format, when its config sets one and the environment does not. */
  logFormat?: 'text' | 'json';
}
/** Master → child: stop gracefully now (drain, beforeClose, exit). `reload`: a new worker serves already. */
export interface StopMessage {
  clutch: 'stop';
  reason?: 'stop' | 'reload';
  /** How long the child may take, ms (the master SIGKILLs it a second later). */
  timeout?: number;
}
/** Master → child: reopen the log files (logrotate moved them). */
export interface ReopenLogsMessage {
  clutch: 'reopen-logs';
}
/** Master → child: a message this process sent could not be delivered. */
export interface UndeliverableMessage {
  clutch: 'undeliverable';
  action: string;
  rid?: number;
  error: SerializedError;
}
/**
 * Master → child: bytes this process sent that have left the master (written to their target, or acknowledged by the agent, or
 * dropped). The sender counts what it sent per target and refuses a send past its budget, so nothing piles up in the master.
 */
export interface CreditMessage {
  clutch: 'credit';
  credits: Array<[to: MessageTarget, bytes: number]>;
}
/** Where the master listens for a worker: what its server's address() would say. */
export interface ListenAddress {
  /** An IP address, or the socket path. */
  address: string;
  /** The real port (after port 0); null for a unix socket. */
  port: number | null;
  family: 'IPv4' | 'IPv6' | 'unix';
}
/** Master → worker: the master listens at `address` and hands this worker connections from now on. */
export interface ListeningMessage {
  clutch: 'listening';
  address: ListenAddress;
}
/** Master → worker: the master could not listen where the worker asked (EADDRINUSE, EACCES, …). */
export interface ListenFailedMessage {
  clutch: 'listen-failed';
  error: SerializedError;
}
/** Master → worker: a new connection, carried as the handle of this message; the worker serves it. */
export interface ConnectionMessage {
  clutch: 'connection';
}
/** Master → worker ('os', reusePort): bind `listen` yourself (exclusively, with SO_REUSEPORT if asked) and send me the socket. */
export interface BindMessage {
  clutch: 'bind';
  listen: ListenConfig & { reusePort?: boolean };
}
/** Master → worker ('os', reusePort): listen on the socket this message carries (the one the master keeps). */
export interface ListenOnMessage {
  clutch: 'listen-on';
}
/** Master → worker: send the project's own metrics (prom-client's default registry), for a scrape of /metrics. */
export interface CollectMetricsMessage {
  clutch: 'collect-metrics';
  id: number;
}
export type MasterMessage =
  | ProfileMessage
  | DeliverMessage
  | CreditMessage
  | ListeningMessage
  | ListenFailedMessage
  | ConnectionMessage
  | BindMessage
  | ListenOnMessage
  | CollectMetricsMessage
  | DeliverReplyMessage
  | PidsMessage
  | ClusterReadyMessage
  | ReleaseMessage
  | StopMessage
  | ReopenLogsMessage
  | BarrierMessage
  | UndeliverableMessage;

/** The messages a master (or `app start`) sends its own IPC parent (a test, a supervisor, `app start --daemon`). */
export type ParentMessage = ParentReadyMessage | ParentFailedMessage;

/** The start failed: the error's code and message, and its cause's stack when it has one. */
export interface ParentFailedMessage {
  action: 'cluster-failed';
  data: { code: string; message: string; cause?: string };
}

/** The cluster is ready. */
export interface ParentReadyMessage {
  action: 'cluster-ready';
  data: { url: string; port: number | null; pid: number; agent: number; workers: number[]; health?: string };
}

const TARGET_NAMES = new Set(['agent', 'app', 'all', 'random']);

export function isMessageTarget(value: unknown): value is MessageTarget {
  return (typeof value === 'string' && TARGET_NAMES.has(value)) || (Number.isInteger(value) && (value as number) > 0);
}
