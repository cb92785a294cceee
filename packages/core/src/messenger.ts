import type { ChildTransport, ClusterPids, FrameworkMessage, Logger, MessageTarget } from '@clutch/cluster';
// The light entries: a child must not load the master's modules for a few functions.
import { codedError, deserializeError, serializeError } from '@clutch/cluster/errors';
import { RepeatFilter } from '@clutch/cluster/repeat-filter';
import { tracing, type OutgoingSpan } from '@clutch/cluster/tracing';
import { ClutchError, CoreErrorCode } from './errors.js';
import { SendBudget, type MessengerLimits } from './messenger-budget.js';
import type {
  ActionData,
  MessageListener,
  MessageMeta,
  RequestArgs,
  RequestData,
  RequestHandler,
  RequestOptions,
  RequestReply,
  RequestTarget,
  SendArgs,
} from './messenger-types.js';
import { assertSerializable } from './serializable.js';

interface Listener {
  fn: MessageListener;
  once: boolean;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The action under which the master's pid announcements are emitted. */
export const CLUSTER_PIDS = 'cluster-pids';

/** The data as JSON text, once, in the sender; undefined travels as nothing. */
function encode(data: unknown): string | undefined {
  return data === undefined ? undefined : JSON.stringify(data);
}

/** The envelope's trace context: only with telemetry on, and only when its span has one. */
function traceOf(span: OutgoingSpan | undefined): { trace?: string } {
  return span?.traceparent ? { trace: span.traceparent } : {};
}

function decode(payload: string | undefined): unknown {
  return payload === undefined ? undefined : JSON.parse(payload);
}

function checkAction(action: unknown): asserts action is string {
  if (typeof action !== 'string' || action === '') {
    throw new ClutchError(CoreErrorCode.MESSENGER_INVALID_ACTION, `A message action must be a non-empty string, got ${JSON.stringify(action)}`);
  }
}

function checkPid(pid: unknown): asserts pid is number {
  if (!Number.isInteger(pid) || (pid as number) <= 0) {
    throw new ClutchError(CoreErrorCode.MESSENGER_INVALID_TARGET, `A message target pid must be a positive integer, got ${JSON.stringify(pid)}`);
  }
}

/**
 * Messages between the agent and the workers, relayed by the master. The same class serves
 * `app.messenger` in a worker and `agent.messenger` in the agent.
 *
 * @example
 * // agent.ts
 * agent.messenger.handle('config:get', async (key) => store.get(key));
 * // in a worker
 * const value = await app.messenger.request('agent', 'config:get', 'feature-x', { timeout: 1000 });
 */
export class Messenger {
  /** The cluster's pids as the master last announced them (`cluster-pids`). */
  pids: ClusterPids;
  readonly #transport: ChildTransport;
  readonly #logger: Logger;
  readonly #listeners = new Map<string, Listener[]>();
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #pending = new Map<number, Pending>();
  #nextRid = 1;
  #requestTimeout: number;
  #closed = false;
  readonly #budget = new SendBudget();
  /** Undeliverable messages are logged once per burst, not once each. */
  readonly #undelivered = new RepeatFilter({ windowMs: 10_000, perKey: 1 });

  constructor(transport: ChildTransport, options: { logger: Logger; pids: ClusterPids; requestTimeout: number }) {
    this.#transport = transport;
    this.#logger = options.logger;
    this.pids = options.pids;
    this.#requestTimeout = options.requestTimeout;
    transport.onMessage((message) => this.#receive(message));
  }

  /** The default request timeout, in ms. */
  set requestTimeout(ms: number) {
    this.#requestTimeout = ms;
  }

  /** The size bounds (from config.messenger once the config is loaded). */
  set limits(limits: MessengerLimits) {
    this.#budget.limits = limits;
  }

  /** Bytes this process has on their way to `target` (sent, and not yet out of the master). */
  pendingBytes(target: MessageTarget): number {
    return this.#budget.pending(target);
  }

  /** Sends to every worker (this one included, if called from a worker). */
  sendToApp<A extends string>(action: A, ...data: SendArgs<A>): this {
    return this.#send('app', action, data[0]);
  }

  /** Sends to the agent. */
  sendToAgent<A extends string>(action: A, ...data: SendArgs<A>): this {
    return this.#send('agent', action, data[0]);
  }

  /** Sends to the agent and every worker. */
  broadcast<A extends string>(action: A, ...data: SendArgs<A>): this {
    return this.#send('all', action, data[0]);
  }

  /** Sends to one worker, picked by the master. */
  sendRandom<A extends string>(action: A, ...data: SendArgs<A>): this {
    return this.#send('random', action, data[0]);
  }

  /** Sends to the process with this pid (the agent or a worker). */
  sendTo<A extends string>(pid: number, action: A, ...data: SendArgs<A>): this {
    checkPid(pid);
    return this.#send(pid, action, data[0]);
  }

  on<A extends string, T extends ActionData<A> = ActionData<A>>(action: A, listener: MessageListener<T>): this {
    return this.#addListener(action, listener as MessageListener, false);
  }

  once<A extends string, T extends ActionData<A> = ActionData<A>>(action: A, listener: MessageListener<T>): this {
    return this.#addListener(action, listener as MessageListener, true);
  }

  /** Removes one listener, or every listener of the action when none is given. */
  off<A extends string, T extends ActionData<A> = ActionData<A>>(action: A, listener?: MessageListener<T>): this {
    const list = this.#listeners.get(action);
    if (!list) return this;
    const rest = listener ? list.filter((l) => l.fn !== (listener as MessageListener)) : [];
    if (rest.length > 0) this.#listeners.set(action, rest);
    else this.#listeners.delete(action);
    return this;
  }

  /**
   * Answers requests for `action`: the handler's return value (or resolved promise) is the reply;
   * a throw rejects the caller's promise with the error's message. One handler per action.
   */
  handle<A extends string, T extends RequestData<A> = RequestData<A>>(action: A, handler: RequestHandler<T, RequestReply<A>>): this {
    checkAction(action);
    if (this.#handlers.has(action)) {
      throw new ClutchError(CoreErrorCode.MESSENGER_HANDLER_EXISTS, `A handler for "${action}" is already registered in this process`);
    }
    this.#handlers.set(action, handler as RequestHandler);
    return this;
  }

  /** Sends a request and resolves with the reply of the target's handler. */
  request<A extends string, R extends RequestReply<A> = RequestReply<A>>(target: RequestTarget, action: A, ...args: RequestArgs<A>): Promise<R> {
    const [data, options = {}] = args as [data?: unknown, options?: RequestOptions];
    let payload: string | undefined;
    let size = 0;
    try {
      if (target !== 'agent' && target !== 'random') checkPid(target);
      checkAction(action);
      assertSerializable(data, action);
      if (this.#closed) throw this.#closedError(action);
      payload = encode(data);
      size = this.#budget.reserve(target, action, payload);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeout = options.timeout ?? this.#requestTimeout;
    const rid = this.#nextRid++;
    // With telemetry on, the request is a span of the caller's trace until its reply (or failure).
    const span = tracing()?.outgoing('request', action, target);
    const reply = new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new ClutchError(CoreErrorCode.MESSENGER_TIMEOUT, `Request "${action}" to ${target} got no reply within ${timeout}ms`));
      }, timeout);
      this.#pending.set(rid, { resolve: resolve, reject, timer });
      if (!this.#transport.send({ clutch: 'send', to: target, action, ...(payload !== undefined ? { payload, size } : {}), rid, ...traceOf(span) })) {
        clearTimeout(timer);
        this.#pending.delete(rid);
        this.#budget.giveBack(target, size);
        reject(this.#disconnectedError(action));
      }
    });
    if (span)
      reply.then(
        () => span.end(),
        (err: unknown) => span.end(err),
      );
    return reply;
  }

  /** Rejects every pending request; later sends fail. Called when the process closes. */
  close(): void {
    this.#closed = true;
    for (const [rid, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(this.#closedError(`#${rid}`));
    }
    this.#pending.clear();
  }

  #send(to: MessageTarget, action: string, data: unknown): this {
    checkAction(action);
    assertSerializable(data, action);
    if (this.#closed) throw this.#closedError(action);
    const payload = encode(data);
    const size = this.#budget.reserve(to, action, payload);
    const span = tracing()?.outgoing('send', action, to);
    const sent = this.#transport.send({ clutch: 'send', to, action, ...(payload !== undefined ? { payload, size } : {}), ...traceOf(span) });
    span?.end(sent ? undefined : this.#disconnectedError(action));
    if (!sent) {
      this.#budget.giveBack(to, size);
      throw this.#disconnectedError(action);
    }
    return this;
  }

  #addListener(action: string, fn: MessageListener, once: boolean): this {
    checkAction(action);
    const list = this.#listeners.get(action);
    if (list) list.push({ fn, once });
    else this.#listeners.set(action, [{ fn, once }]);
    return this;
  }

  /** What each message from the master does here; the compiler checks the table against the protocol. */
  readonly #dispatch: { [K in FrameworkMessage['clutch']]: (message: Extract<FrameworkMessage, { clutch: K }>) => void } = {
    deliver: (message) => {
      const meta = { from: message.from, pid: message.pid };
      const run = () =>
        message.rid === undefined
          ? this.#emit(message.action, decode(message.payload), meta)
          : this.#answer(message.action, decode(message.payload), meta, message.rid);
      // The handler or the listeners run in the sender's trace (telemetry on, and the sender sent one).
      const traced = message.trace === undefined ? undefined : tracing();
      void (traced ? traced.incoming(message.rid === undefined ? 'send' : 'request', message.action, message.trace!, run) : run());
    },
    credit: () => {},
    reply: (message) => {
      const pending = this.#pending.get(message.rid);
      if (!pending) {
        this.#logger.debug('late reply for request %d from %d ignored', message.rid, message.pid);
        return;
      }
      this.#pending.delete(message.rid);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(deserializeError(message.error));
      else pending.resolve(decode(message.payload));
    },
    pids: (message) => {
      this.pids = { agent: message.agent, workers: message.workers };
      this.#emit(CLUSTER_PIDS, this.pids, { from: 'master', pid: this.#transport.masterPid });
    },
    undeliverable: (message) => {
      const error = deserializeError(message.error);
      const pending = message.rid === undefined ? undefined : this.#pending.get(message.rid);
      if (pending && message.rid !== undefined) {
        this.#pending.delete(message.rid);
        clearTimeout(pending.timer);
        pending.reject(error);
        return;
      }
      const code = message.error.code ?? 'UNKNOWN';
      const more = (n: number, ms: number) => this.#logger.error('[%s] %d more messages were not delivered in %ds', code, n, ms / 1000);
      if (this.#undelivered.admit(code, more)) this.#logger.error('message "%s" was not delivered: %s [%s]', message.action, error.message, code);
    },
  };

  #receive(message: FrameworkMessage): void {
    // Bytes given back ride on deliveries and replies, or come on their own (credit).
    if ('credits' in message && message.credits) for (const [to, bytes] of message.credits) this.#budget.giveBack(to, bytes);
    const handle = this.#dispatch[message.clutch] as ((m: FrameworkMessage) => void) | undefined;
    if (handle) handle(message);
    else this.#logger.debug('unknown message from the master: %j', message);
  }

  #emit(action: string, data: unknown, meta: MessageMeta): void {
    const list = this.#listeners.get(action);
    if (!list) {
      this.#logger.debug('no listener for message "%s" from %s %d', action, meta.from, meta.pid);
      return;
    }
    if (list.some((l) => l.once)) {
      const rest = list.filter((l) => !l.once);
      if (rest.length > 0) this.#listeners.set(action, rest);
      else this.#listeners.delete(action);
    }
    for (const listener of list) {
      // A listener's failure is its own: it must not stop the others or crash the process.
      try {
        const result = listener.fn(data, meta);
        if (result instanceof Promise) result.catch((err: unknown) => this.#listenerFailed(action, err));
      } catch (err) {
        this.#listenerFailed(action, err);
      }
    }
  }

  #listenerFailed(action: string, err: unknown): void {
    this.#logger.error('listener for message "%s" failed: %s', action, err);
  }

  async #answer(action: string, data: unknown, meta: MessageMeta, rid: number): Promise<void> {
    const handler = this.#handlers.get(action);
    let reply: { payload?: string; size?: number; error?: ReturnType<typeof serializeError> };
    if (!handler) {
      reply = { error: codedError(CoreErrorCode.MESSENGER_NO_HANDLER, `Process ${process.pid} has no handler for "${action}"`) };
    } else {
      try {
        // A handler that answers synchronously does not pay for an extra await.
        const result = handler(data, meta);
        const value = result instanceof Promise ? await result : result;
        assertSerializable(value, `${action} (reply)`);
        const payload = encode(value);
        // A reply counts against this process's budget for the asker, as a message would.
        const size = this.#budget.reserve(meta.pid, `${action} (reply)`, payload);
        reply = payload === undefined ? {} : { payload, size };
      } catch (err) {
        const { name, message, code } = serializeError(err);
        reply = { error: { name, message, code: code ?? CoreErrorCode.MESSENGER_HANDLER_FAILED } };
      }
    }
    if (!this.#transport.send({ clutch: 'reply', to: meta.pid, rid, ...reply })) this.#budget.giveBack(meta.pid, reply.size ?? 0);
  }

  #closedError(action: string): ClutchError {
    return new ClutchError(CoreErrorCode.MESSENGER_CLOSED, `The messenger is closed; "${action}" was not sent`);
  }

  #disconnectedError(action: string): ClutchError {
    return new ClutchError(CoreErrorCode.MESSENGER_DISCONNECTED, `The channel to the master is closed; "${action}" was not sent`);
  }
}
