/**
 * The seam between the cluster's processes and OpenTelemetry. Nothing here imports OpenTelemetry:
 * `@clutch/telemetry`, loaded by the `--import` hook only when telemetry is on (docs/operations.md),
 * installs a Tracing, and the messenger and the logger ask for it. With telemetry off there is none,
 * and they add nothing to a message or a log line.
 */
import type { TelemetrySettings } from './framework.js';

/** A span this process started around a message it sends; ended once the send (or the request) is over. */
export interface OutgoingSpan {
  /** The W3C `traceparent` of the span, carried in the message's envelope (`trace`). */
  readonly traceparent: string | undefined;
  end(error?: unknown): void;
}

/** What a process with telemetry on can do for its messages and its log lines. */
export interface Tracing {
  /** A span for a message about to be sent: a `request` (ended by its reply) or a one-way `send`. */
  outgoing(kind: 'request' | 'send', action: string, target: string | number): OutgoingSpan;
  /**
   * Runs `fn` (a handler or a listener) inside a span whose parent is the sender's `traceparent`;
   * a promise it returns ends the span when it settles.
   */
  incoming<T>(kind: 'request' | 'send', action: string, traceparent: string, fn: () => T): T;
  /** The ids of the active span, for a JSON log line; undefined outside any span. */
  logFields(): { trace_id: string; span_id: string } | undefined;
  /**
   * The project's `telemetry` config, once the process has read it: the SDK starts here (service
   * name, exporter), before the project's code runs; the instrumentations were in place before.
   */
  configure(settings: TelemetrySettings | undefined): void;
  /** Sends the spans not exported yet; the process awaits it (bounded) before it exits. */
  flush(): Promise<void>;
}

const KEY = Symbol.for('clutch.tracing');
type Holder = { [KEY]?: Tracing };

/** The installed Tracing, or undefined while telemetry is off. */
export function tracing(): Tracing | undefined {
  return (globalThis as Holder)[KEY];
}

/**
 * Called by `@clutch/telemetry` once its SDK runs. The global (not a module variable) survives a
 * second copy of this package, as the hook and the framework may resolve it from different places.
 */
export function installTracing(value: Tracing): void {
  (globalThis as Holder)[KEY] = value;
}
