/**
 * The IPC protocol between the master and its children, read by both sides. Every message is an
 * object whose `clutch` field names its type; anything else on the channel is not ours.
 */
import type { SerializedError } from './errors.js';

/** Where a message goes: the agent, every worker, the agent and every worker, one worker, or a pid. */
export type MessageTarget = 'agent' | 'app' | 'all' | 'random' | number;
/** Who sent a delivered message. */
export type SenderRole = 'agent' | 'app' | 'master';

/** Child → master: the process finished booting (for a worker: the app is ready, listening follows). */
export interface ReadyMessage {
  clutch: 'ready';
}
/** Child → master: the process failed while booting; it exits right after. */
export interface BootErrorMessage {
  clutch: 'boot-error';
  error: SerializedError;
}
/** Child → master: relay `action` to `to`. With `rid`, the receiver must answer with a reply. */
export interface SendMessage {
  clutch: 'send';
  to: MessageTarget;
  action: string;
  data?: unknown;
  rid?: number;
  /** Piggybacked acknowledgement (see AckMessage): saves the agent a message of its own. */
  ack?: number;
}
/** Child → master: the answer to request `rid`, for the process `to`. */
export interface ReplyMessage {
  clutch: 'reply';
  to: number;
  rid: number;
  data?: unknown;
  error?: SerializedError;
  /** Piggybacked acknowledgement (see AckMessage). */
  ack?: number;
}
/**
 * Agent → master: every message up to `seq` has been received and dispatched. The master keeps what
 * it sent the agent until then, so a message in flight when the agent dies goes to its replacement.
 */
export interface AckMessage {
  clutch: 'ack';
  seq: number;
}
/**
 * Child → master → child: a barrier. Channels are ordered both ways, so once the master's echo
 * arrives, everything the master sent before it has been read — in particular a connection node:cluster
 * was handing to a worker that has just closed its server, which that worker must refuse (so the
 * master passes it to another) before it may exit.
 */
export interface BarrierMessage {
  clutch: 'barrier';
  id: number;
}
export type ChildMessage = ReadyMessage | BootErrorMessage | SendMessage | ReplyMessage | AckMessage | BarrierMessage;

/** Master → child: a message relayed from `pid`. */
export interface DeliverMessage {
  clutch: 'deliver';
  action: string;
  data?: unknown;
  from: SenderRole;
  pid: number;
  rid?: number;
  /** Set on messages to the agent: the agent acknowledges it (see AckMessage). */
  seq?: number;
}
/** Master → child: the answer to this process's request `rid`. */
export interface DeliverReplyMessage {
  clutch: 'reply';
  rid: number;
  data?: unknown;
  error?: SerializedError;
  from: SenderRole;
  pid: number;
  /** Set on messages to the agent: the agent acknowledges it (see AckMessage). */
  seq?: number;
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
export type MasterMessage =
  | DeliverMessage
  | DeliverReplyMessage
  | PidsMessage
  | ClusterReadyMessage
  | StopMessage
  | ReopenLogsMessage
  | BarrierMessage
  | UndeliverableMessage;

/** The message a master sends its own IPC parent (a test, a supervisor, `app start --daemon`). */
export interface ParentReadyMessage {
  action: 'cluster-ready';
  data: { url: string; port: number | null; pid: number; agent: number; workers: number[] };
}

const TARGET_NAMES = new Set(['agent', 'app', 'all', 'random']);

export function isMessageTarget(value: unknown): value is MessageTarget {
  return (typeof value === 'string' && TARGET_NAMES.has(value)) || (Number.isInteger(value) && (value as number) > 0);
}

function isRid(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/**
 * Checks a message received from a child. Returns the reason it is malformed, or null when it is a
 * well-formed ChildMessage. Messages without a `clutch` field are not ours and are reported as such.
 */
export function checkChildMessage(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return 'not an object';
  const msg = raw as Record<string, unknown>;
  switch (msg.clutch) {
    case 'ready':
      return null;
    case 'boot-error':
      return typeof msg.error === 'object' && msg.error !== null ? null : 'boot-error without error';
    case 'send':
      if (msg.ack !== undefined && !isRid(msg.ack)) return 'send with a bad piggybacked ack';
      if (typeof msg.action !== 'string' || msg.action === '') return 'send without an action';
      if (!isMessageTarget(msg.to)) return `send with unknown target ${JSON.stringify(msg.to)}`;
      if (msg.rid !== undefined && !isRid(msg.rid)) return 'send with a bad request id';
      return null;
    case 'reply':
      if (msg.ack !== undefined && !isRid(msg.ack)) return 'reply with a bad piggybacked ack';
      if (!isRid(msg.rid)) return 'reply with a bad request id';
      if (!Number.isInteger(msg.to)) return 'reply without a target pid';
      if (msg.error !== undefined && (typeof msg.error !== 'object' || msg.error === null)) return 'reply with a bad error';
      return null;
    case 'ack':
      return isRid(msg.seq) ? null : 'ack with a bad sequence number';
    case 'barrier':
      return isRid(msg.id) ? null : 'barrier with a bad id';
    default:
      return `unknown message type ${JSON.stringify(msg.clutch)}`;
  }
}
