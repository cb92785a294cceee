import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { TelemetrySettings } from './framework.js';

/** `1`/`true`/`on` or `0`/`false`/`off`: wins over the project's `telemetry.enabled` (docs/operations.md). */
export const TELEMETRY_ENV = 'CLUTCH_TELEMETRY';
/** What the hook reads to name the process in its spans' resource: `{ role, slot? }`. */
export const TELEMETRY_PROCESS_ENV = 'CLUTCH_TELEMETRY_PROCESS';
/** The module each child imports first when telemetry is on. */
const HOOK = '@clutch/telemetry/register';

function switchOf(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[TELEMETRY_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (raw === '1' || raw === 'true' || raw === 'on') return true;
  if (raw === '0' || raw === 'false' || raw === 'off') return false;
  throw new ClutchError(
    ClusterErrorCode.TELEMETRY_INVALID,
    `${TELEMETRY_ENV}=${JSON.stringify(env[TELEMETRY_ENV])} is neither on (1, true, on) nor off (0, false, off)`,
  );
}

/**
 * Whether the children load OpenTelemetry, decided by the master before each fork (the `--import`
 * hook must be on the child's command line): CLUTCH_TELEMETRY in its environment (or an env file)
 * wins, else the project's `telemetry.enabled` as the agent reported it. `OTEL_SDK_DISABLED=true`,
 * the standard switch, turns it off whatever else says.
 */
export function telemetryOn(env: NodeJS.ProcessEnv, project: TelemetrySettings | undefined): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return switchOf(env) ?? project?.enabled ?? false;
}

/**
 * The hook's file URL, resolved from the project: the user installs `@clutch/telemetry` there, beside
 * `@clutch/core`. Only resolved, never imported: the master loads no OpenTelemetry.
 */
export function resolveTelemetryHook(baseDir: string): string {
  try {
    return pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(HOOK)).href;
  } catch (err) {
    throw new ClutchError(
      ClusterErrorCode.TELEMETRY_NOT_INSTALLED,
      `Telemetry is on but ${HOOK} cannot be found from ${baseDir}: npm install @clutch/telemetry in the project, or turn telemetry off`,
      { cause: err },
    );
  }
}

/** What a child's environment gets with telemetry on: its role and slot, for its spans' resource. */
export function telemetryEnv(proc: { role: 'agent' | 'worker'; slot?: number }): NodeJS.Dict<string> {
  return { [TELEMETRY_PROCESS_ENV]: JSON.stringify({ role: proc.role, slot: proc.slot }) };
}
