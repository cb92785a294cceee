import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TelemetrySettings } from '@clutch/cluster';
import type { OutgoingSpan, Tracing } from '@clutch/cluster/tracing';
import type { TelemetrySdk } from './sdk.js';

/** The envelope always carries W3C trace context, whatever OTEL_PROPAGATORS says for HTTP. */
const w3c = new W3CTraceContextPropagator();
type Carrier = Record<string, string>;
const setter = { set: (carrier: Carrier, key: string, value: string) => void (carrier[key] = value) };
const getter = { get: (carrier: Carrier, key: string) => carrier[key], keys: (carrier: Carrier) => Object.keys(carrier) };

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * The Tracing the cluster's code asks for (@clutch/cluster/tracing). Spans for the messenger (docs/messenger.md): a `request` is a CLIENT span in the caller and a
 * SERVER span around the handler; a one-way send is a PRODUCER span and a CONSUMER span around
 * the listeners. The receiving side's span is a child of the sender's, so a worker's request to the
 * agent and the agent's handler are one trace.
 */
export class MessengerTracing implements Tracing {
  readonly #tracer = trace.getTracer('@clutch/telemetry');
  readonly #sdk: TelemetrySdk;

  constructor(sdk: TelemetrySdk) {
    this.#sdk = sdk;
  }

  configure(settings: TelemetrySettings | undefined): void {
    this.#sdk.start(settings);
  }

  outgoing(kind: 'request' | 'send', action: string, target: string | number): OutgoingSpan {
    const span = this.#tracer.startSpan(`${kind} ${action}`, {
      kind: kind === 'request' ? SpanKind.CLIENT : SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'clutch', 'messaging.operation.name': kind, 'messaging.destination.name': String(target) },
    });
    const carrier: Carrier = {};
    w3c.inject(trace.setSpan(context.active(), span), carrier, setter);
    return {
      traceparent: carrier.traceparent,
      end: (error?: unknown) => {
        if (error !== undefined) fail(span, error);
        span.end();
      },
    };
  }

  incoming<T>(kind: 'request' | 'send', action: string, traceparent: string, fn: () => T): T {
    const parent = w3c.extract(ROOT_CONTEXT, { traceparent }, getter);
    const span = this.#tracer.startSpan(
      `${kind === 'request' ? 'handle' : 'receive'} ${action}`,
      { kind: kind === 'request' ? SpanKind.SERVER : SpanKind.CONSUMER, attributes: { 'messaging.system': 'clutch', 'messaging.operation.name': 'process' } },
      parent,
    );
    return context.with(trace.setSpan(parent, span), () => {
      let result: T;
      try {
        result = fn();
      } catch (err) {
        fail(span, err);
        span.end();
        throw err;
      }
      if (result instanceof Promise)
        result.then(
          () => span.end(),
          (err: unknown) => {
            fail(span, err);
            span.end();
          },
        );
      else span.end();
      return result;
    });
  }

  logFields(): { trace_id: string; span_id: string } | undefined {
    const active = trace.getActiveSpan()?.spanContext();
    return active && trace.isSpanContextValid(active) ? { trace_id: active.traceId, span_id: active.spanId } : undefined;
  }

  flush(): Promise<void> {
    return this.#sdk.shutdown();
  }
}
