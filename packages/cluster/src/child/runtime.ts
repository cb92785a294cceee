import { ClusterErrorCode, ClutchError, deserializeError, serializeError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { ChildTransport, FrameworkMessage, ListenConfig } from '../framework.js';
import { logHealth, onLogHealthChange, type Logger } from '../logger.js';
import { CHILD_OPTIONS_ENV, type ChildOptions } from '../options.js';
import type { ChildMessage, ListenAddress, MasterMessage, ReleaseMessage } from '../protocol.js';
import type { HttpCounts } from '../http-stats.js';
import type { RawHandle } from '../round-robin.js';
import { answerProfile } from '../inspect.js';
import { Coalescer, isBatch } from '../coalesce.js';
import { takeEarlyMessages } from './early.js';

type ControlMessage = Extract<
  MasterMessage,
  { clutch: 'connection' | 'bind' | 'listen-on' | 'listening' | 'listen-failed' | 'collect-metrics' | 'barrier' | 'profile' }
>;

/** Reads what the master passed this child at fork time. */
export function readChildOptions(): ChildOptions {
  const raw = process.env[CHILD_OPTIONS_ENV];
  if (!raw)
    throw new ClutchError(ClusterErrorCode.INVALID_OPTION, `${CHILD_OPTIONS_ENV} is not set: this entry is forked by the Clutch master, not run by hand`);
  return JSON.parse(raw) as ChildOptions;
}

/**
 * The master orchestrates the stop: a terminal's Ctrl-C (SIGINT) or SIGQUIT reaches the whole
 * process group, and a child that died on it would drop its requests in flight. Only the master's
 * stop order (or SIGTERM, or the loss of the master) ends a child.
 */
export function ignoreGroupSignals(logger: Logger): void {
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    process.on(signal, () => logger.debug('ignored %s: the master stops this process', signal));
  }
}

export { loadFramework } from '../load-framework.js';

export interface RuntimeHandlers {
  /** The whole cluster is ready (or, in a replacement worker, this worker is). */
  onClusterReady(url: string): void;
  /** A worker forked while the agent booted (ChildOptions.gated): the agent is ready, boot now. */
  onRelease?(release: ReleaseMessage): void;
  /** The master orders a graceful stop. */
  onStop(reason: 'stop' | 'reload', timeout: number | undefined): void;
  /** The master says: reopen the log files. */
  onReopenLogs?(): void;
  /** The master hands this worker a connection (a raw handle) to serve. */
  onConnection?(handle: RawHandle): void;
  /** 'os' and reusePort: bind `config` here (the master keeps the socket); resolves with where and the socket. */
  onBind?(config: ListenConfig & { reusePort?: boolean }): Promise<{ address: ListenAddress; socket: RawHandle }>;
  /** 'os' and reusePort: listen on the socket the master keeps. */
  onListenOn?(socket: RawHandle): Promise<ListenAddress>;
  /** The master scrapes /metrics: the project's own metrics (or null), and the worker's HTTP counts. */
  onCollectMetrics?(): Promise<{ metrics: unknown[] | null; http?: HttpCounts }>;
}

/** The child's side of the IPC channel, plus what only the runtime uses. */
export interface RuntimeTransport extends ChildTransport {
  /** Resolves once the master has echoed a barrier (or after `timeoutMs`, or at once without a master). */
  barrier(timeoutMs: number): Promise<void>;
  /** Asks the master to serve HTTP at `config` for this worker; resolves with where it listens. */
  listen(config: ListenConfig): Promise<ListenAddress>;
}

/** How often, at most, a process tells the master about log lines it could not write. */
const LOG_HEALTH_EVERY_MS = 1_000;

/** The child's side of the IPC channel: `cluster-ready` and `stop` go to the runtime, the rest to the framework. */
export function createTransport(masterPid: number, runtime: RuntimeHandlers): RuntimeTransport {
  let handler: ((message: FrameworkMessage) => void) | null = null;
  const barriers = new Map<number, () => void>();
  let nextBarrier = 1;
  // Acks are coalesced, and ride on whatever this process sends the master anyway (a reply, a
  // message); a message of their own goes only at the end of a turn that sent nothing.
  let acked = 0;
  let ackSent = 0;
  let ackPending = false;
  const flushAck = () => {
    ackPending = false;
    if (acked > ackSent && process.connected && process.send) {
      ackSent = acked;
      outbox.push({ clutch: 'ack', seq: acked });
    }
  };
  let listening: { resolve(address: ListenAddress): void; reject(err: Error): void } | null = null;
  // What this process sends the master in one turn goes as one write (coalesce.ts); a message that
  // goes alone (with a socket, or on its own path) flushes it first, so the master reads in order.
  const outbox = new Coalescer<ChildMessage>((message) => {
    if (process.connected && process.send) process.send(message);
  });
  const reply = (message: ChildMessage, socket?: unknown) => {
    if (!process.connected || !process.send) return;
    outbox.flush();
    // A socket goes to the master as a raw handle: this process keeps its own copy open.
    if (socket) process.send(message, socket as never);
    else process.send(message);
  };
  const answerBind = (work: Promise<{ address: ListenAddress; socket?: unknown }> | undefined) => {
    void (work ?? Promise.reject(new Error('this process serves no HTTP'))).then(
      ({ address, socket }) => reply({ clutch: 'bound', address }, socket),
      (err: unknown) => reply({ clutch: 'bound', error: serializeError(err) }),
    );
  };
  /** Control messages: answered here, never counted as messenger traffic. Returns false for the rest. */
  const control = (message: MasterMessage, handle: unknown): message is ControlMessage => {
    switch (message.clutch) {
      case 'connection': // The hot path of a worker: one message per connection.
        if (handle) runtime.onConnection?.(handle as RawHandle);
        return true;
      case 'bind':
        answerBind(runtime.onBind?.(message.listen));
        return true;
      case 'listen-on':
        answerBind(handle ? runtime.onListenOn?.(handle as RawHandle).then((address) => ({ address })) : undefined);
        return true;
      case 'listening':
      case 'listen-failed': {
        const waiter = listening;
        listening = null;
        if (message.clutch === 'listening') waiter?.resolve(message.address);
        else waiter?.reject(deserializeError(message.error));
        return true;
      }
      case 'collect-metrics':
        void (runtime.onCollectMetrics?.() ?? Promise.resolve({ metrics: null }))
          .catch(() => ({ metrics: null }))
          .then((answer) => reply({ clutch: 'metrics', id: message.id, ...answer }));
        return true;
      case 'profile': // `app profile`: the same in the agent and in a worker.
        answerProfile(message, (m) => reply(m));
        return true;
      case 'barrier':
        barriers.get(message.id)?.();
        barriers.delete(message.id);
        return true;
      default:
        return false;
    }
  };
  const receive = (raw: unknown, handle?: unknown) => {
    if (isBatch(raw)) {
      for (const message of raw.messages) receive(message);
      return;
    }
    if (typeof raw !== 'object' || raw === null || !('clutch' in raw)) return;
    const message = raw as MasterMessage;
    if (control(message, handle)) return;
    // Counted before it is dispatched, so that a reply sent while handling it carries the ack.
    const seq = 'seq' in message && typeof message.seq === 'number' ? message.seq : 0;
    if (seq) acked = seq;
    if (message.clutch === 'cluster-ready') runtime.onClusterReady(message.url);
    else if (message.clutch === 'stop') runtime.onStop(message.reason ?? 'stop', message.timeout);
    else if (message.clutch === 'reopen-logs') runtime.onReopenLogs?.();
    else if (message.clutch === 'release') runtime.onRelease?.(message);
    else handler?.(message);
    // Nothing sent while handling it carried the ack: send one at the end of this turn.
    if (seq && acked > ackSent && !ackPending) {
      ackPending = true;
      setImmediate(flushAck);
    }
  };
  process.on('message', receive);
  for (const message of takeEarlyMessages()) receive(message);
  reportLogHealth();
  return {
    pid: process.pid,
    masterPid,
    send(message) {
      if (!process.connected || !process.send) return false;
      const ack = acked > ackSent && (message.clutch === 'send' || message.clutch === 'reply') ? acked : 0;
      if (ack && (message.clutch === 'send' || message.clutch === 'reply')) message.ack = ack;
      outbox.push(message);
      // Only once the message (and the ack on it) is out: a send that throws must not lose the ack.
      if (ack) ackSent = ack;
      return true;
    },
    onMessage(h) {
      handler = h;
    },
    barrier(timeoutMs) {
      if (!process.connected || !process.send) return Promise.resolve();
      const id = nextBarrier++;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          barriers.delete(id);
          resolve();
        }, timeoutMs);
        barriers.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        outbox.flush();
        process.send!({ clutch: 'barrier', id } satisfies ChildMessage);
      });
    },
    listen(config) {
      if (!process.connected || !process.send) return Promise.reject(new ClutchError(ClusterErrorCode.PROCESS_EXITED, 'The master is gone'));
      return new Promise<ListenAddress>((resolve, reject) => {
        listening = { resolve, reject };
        outbox.flush();
        process.send!({ clutch: 'listen', listen: config } satisfies ChildMessage);
      });
    },
  };
}

/** Tells the master, at most once a second, how many log lines this process dropped (`app status` shows it). */
function reportLogHealth(): void {
  let timer: NodeJS.Timeout | null = null;
  let last = -1;
  const send = () => {
    timer = null;
    const health = logHealth();
    if (health.dropped === last || !process.connected || !process.send) return;
    last = health.dropped;
    try {
      process.send({ clutch: 'log-health', dropped: health.dropped, error: health.lastError } satisfies ChildMessage);
    } catch {
      // The channel just closed: the master is gone, and with it the reader of this count.
    }
  };
  onLogHealthChange(() => {
    timer ??= setTimeout(send, last < 0 ? 0 : LOG_HEALTH_EVERY_MS);
    timer.unref();
  });
}

/** Tells the master why this child could not boot, then exits with BOOT_FAILED once the message is out. */
export function failBoot(logger: Logger, err: unknown, reported = false): void {
  const connected = process.connected && typeof process.send === 'function';
  // During the start the master reports the error, once; after it (a replacement, a reload) this
  // line is where its stack is read.
  if (!reported || !connected) logger.error('boot failed: %s', err);
  const message: ChildMessage = { clutch: 'boot-error', error: serializeError(err) };
  if (connected && process.send) {
    // Exit once the error is written to the channel, so the master can name the cause.
    process.send(message, () => process.exit(ExitCode.BOOT_FAILED));
  } else {
    process.exit(ExitCode.BOOT_FAILED);
  }
}
