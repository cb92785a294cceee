/**
 * The master's check of what a child sends: every message is validated here before it reaches its
 * handler (master-dispatch.ts), so a malformed one is a coded log line, never a crash.
 */
import { isMessageTarget, type CheckState } from './protocol.js';

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
    case 'leaving':
    case 'preloaded':
      return null;
    case 'boot-error':
      return typeof msg.error === 'object' && msg.error !== null ? null : 'boot-error without error';
    case 'send':
      if (msg.ack !== undefined && !isRid(msg.ack)) return 'send with a bad piggybacked ack';
      if (typeof msg.action !== 'string' || msg.action === '') return 'send without an action';
      if (!isMessageTarget(msg.to)) return `send with unknown target ${JSON.stringify(msg.to)}`;
      if (msg.rid !== undefined && !isRid(msg.rid)) return 'send with a bad request id';
      if (msg.payload !== undefined && typeof msg.payload !== 'string') return 'send with a payload that is not JSON text';
      if (msg.trace !== undefined && (typeof msg.trace !== 'string' || msg.trace.length > 512)) return 'send with a bad trace context';
      return null;
    case 'reply':
      if (msg.ack !== undefined && !isRid(msg.ack)) return 'reply with a bad piggybacked ack';
      if (!isRid(msg.rid)) return 'reply with a bad request id';
      if (!Number.isInteger(msg.to)) return 'reply without a target pid';
      if (msg.error !== undefined && (typeof msg.error !== 'object' || msg.error === null)) return 'reply with a bad error';
      if (msg.payload !== undefined && typeof msg.payload !== 'string') return 'reply with a payload that is not JSON text';
      return null;
    case 'ack':
      return isRid(msg.seq) ? null : 'ack with a bad sequence number';
    case 'barrier':
      return isRid(msg.id) ? null : 'barrier with a bad id';
    case 'listen': {
      const listen = msg.listen as Record<string, unknown> | null;
      if (typeof listen !== 'object' || listen === null) return 'listen without a listen config';
      if (listen.port !== undefined && (!Number.isInteger(listen.port) || (listen.port as number) < 0 || (listen.port as number) > 65535))
        return 'listen with a bad port';
      if (listen.hostname !== undefined && typeof listen.hostname !== 'string') return 'listen with a bad hostname';
      if (listen.path !== undefined && typeof listen.path !== 'string') return 'listen with a bad path';
      return null;
    }
    case 'bound':
      return (typeof msg.address === 'object' && msg.address !== null) || (typeof msg.error === 'object' && msg.error !== null)
        ? null
        : 'bound without an address or an error';
    case 'leader':
      return typeof msg.leading === 'boolean' && typeof msg.store === 'string' && Number.isSafeInteger(msg.transitions) ? null : 'leader without its state';
    case 'heartbeat':
      return typeof msg.cpu === 'object' && msg.cpu !== null && Number.isFinite(msg.rss) && typeof msg.loop === 'object' && msg.loop !== null
        ? null
        : 'heartbeat without its figures';
    case 'metrics':
      return isRid(msg.id) && (msg.metrics === null || Array.isArray(msg.metrics)) ? null : 'metrics with a bad id or body';
    case 'profile-data':
      return isRid(msg.id) && (msg.chunk === undefined || typeof msg.chunk === 'string') ? null : 'profile-data with a bad id or chunk';
    case 'schedule-run':
      return typeof msg.key === 'string' && Number.isFinite(msg.ms) && typeof msg.ok === 'boolean' ? null : 'schedule-run without its key, time or outcome';
    case 'checks':
      return Array.isArray(msg.checks) &&
        msg.checks.every(
          (c: unknown) => typeof c === 'object' && c !== null && typeof (c as CheckState).name === 'string' && typeof (c as CheckState).ok !== 'undefined',
        )
        ? null
        : 'checks without a list of named checks';
    case 'log-health':
      return Number.isSafeInteger(msg.dropped) && (msg.error === null || typeof msg.error === 'string') ? null : 'log-health with bad counts';
    default:
      return `unknown message type ${JSON.stringify(msg.clutch)}`;
  }
}
