import type { SenderRole } from '@clutch/cluster';

/** Who sent a message: the role of the sending process and its pid. */
export interface MessageMeta {
  from: SenderRole;
  pid: number;
}

/**
 * Payloads of the project's messages, declared so that sends and listeners are typed:
 *
 * @example
 * declare module '@clutch/core' {
 *   interface MessengerActions { 'cache:clear': { key: string } }
 *   interface MessengerRequests { 'counter:next': { data: { by: number }; reply: number } }
 * }
 * app.messenger.sendToApp('cache:clear', { key: 'home' });          // checked
 * const n = await app.messenger.request('agent', 'counter:next', { by: 1 });   // n: number
 *
 * An action that is not declared carries `unknown`.
 */
export interface MessengerActions {}
/** Requests the project declares: `{ data, reply }` per action (see MessengerActions). */
export interface MessengerRequests {}

/** The payload of `A`: declared in MessengerActions, else unknown. */
export type ActionData<A extends string> = A extends keyof MessengerActions ? MessengerActions[A] : unknown;
/** What request `A` sends: declared in MessengerRequests, else unknown. */
export type RequestData<A extends string> = A extends keyof MessengerRequests ? (MessengerRequests[A] extends { data: infer D } ? D : unknown) : unknown;
/** What request `A` resolves with: declared in MessengerRequests, else unknown. */
export type RequestReply<A extends string> = A extends keyof MessengerRequests ? (MessengerRequests[A] extends { reply: infer R } ? R : unknown) : unknown;

/** The data argument of a send: required for a declared action, optional (and unknown) otherwise. */
export type SendArgs<A extends string> = A extends keyof MessengerActions ? [data: MessengerActions[A]] : [data?: unknown];
/** The data and options of a request: the data is required for a declared request. */
export type RequestArgs<A extends string> = A extends keyof MessengerRequests
  ? [data: RequestData<A>, options?: RequestOptions]
  : [data?: unknown, options?: RequestOptions];

/**
 * A listener for one action. For an undeclared action you may annotate `data` (the messenger
 * cannot check it: it crossed a process boundary as JSON); a declared one is typed for you.
 */
export type MessageListener<T = unknown> = (data: T, meta: MessageMeta) => unknown;
/** Answers a request: the return value (or resolved promise) is the reply. */
export type RequestHandler<T = unknown, R = unknown> = (data: T, meta: MessageMeta) => R | Promise<R>;
/** Where a request may go: the agent, one worker picked by the master, or a pid. */
export type RequestTarget = 'agent' | 'random' | number;

export interface RequestOptions {
  /** Milliseconds to wait for the reply; `config.messenger.requestTimeout` by default. */
  timeout?: number;
}
