import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQLInstrumentation } from '@opentelemetry/instrumentation-mysql';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TelemetrySettings } from '@clutch/cluster';

/** Set by the master for each child it forks with this hook: `{ role, slot? }`. */
const PROCESS_ENV = 'CLUTCH_TELEMETRY_PROCESS';

function parsed(name: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(process.env[name] ?? '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `process.pid` as the semantic conventions name it; the cluster's role and slot under `clutch.*`. */
function processAttributes(): Record<string, string | number> {
  const { role, slot } = parsed(PROCESS_ENV);
  return {
    'process.pid': process.pid,
    ...(typeof role === 'string' ? { 'clutch.role': role } : {}),
    ...(typeof slot === 'number' ? { 'clutch.slot': slot } : {}),
  };
}

/**
 * OpenTelemetry in one process, in two steps: the instrumentations first (the hook, before any
 * project module is imported: they patch a library as it loads), then the SDK once the project's
 * config is read, so the config's service name and exporter apply to the agent as to the workers.
 * Until then no span is recorded: the process is booting, no request runs.
 */
export class TelemetrySdk {
  #sdk: NodeSDK | null = null;

  constructor() {
    registerInstrumentations({
      instrumentations: [
        new HttpInstrumentation(),
        new UndiciInstrumentation(),
        new PgInstrumentation(),
        new IORedisInstrumentation(),
        new RedisInstrumentation(),
        new MySQLInstrumentation(),
        new MySQL2Instrumentation(),
      ],
    });
  }

  /**
   * Starts the SDK as the standard OTEL_* variables say (exporter, OTLP endpoint and protocol —
   * http/protobuf by default, or http/json —, sampler, batch delays), the config filling what they
   * leave unset. Traces only, unless the environment asks for OTLP metrics or logs: Clutch has its
   * own /metrics and log lines.
   */
  start(settings: TelemetrySettings | undefined): void {
    if (this.#sdk) return;
    // CLUTCH_TELEMETRY=1 wins over `enabled: false`; without it the hook is here because the config said on.
    if (settings?.enabled === false && !/^(1|true|on)$/i.test(process.env.CLUTCH_TELEMETRY?.trim() ?? '')) return;
    process.env.OTEL_METRICS_EXPORTER ??= 'none';
    process.env.OTEL_LOGS_EXPORTER ??= 'none';
    if (settings?.exporter) process.env.OTEL_TRACES_EXPORTER ??= settings.exporter;
    const title = parsed('CLUTCH_PROCESS').title;
    const serviceName = process.env.OTEL_SERVICE_NAME ? undefined : (settings?.serviceName ?? (typeof title === 'string' ? title : undefined));
    this.#sdk = new NodeSDK({ resource: resourceFromAttributes(processAttributes()), ...(serviceName ? { serviceName } : {}), instrumentations: [] });
    this.#sdk.start();
  }

  /** Exports what is left (the process is about to exit). */
  async shutdown(): Promise<void> {
    await this.#sdk?.shutdown();
  }
}
