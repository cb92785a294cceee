/**
 * The `--import` hook the master puts first on the command line of the agent and every worker when
 * telemetry is on (docs/operations.md): the instrumentations (http, undici/fetch, pg, ioredis,
 * redis, mysql, mysql2) are in place before the project's code is loaded, and the SDK starts once
 * the process has read the project's config. Never loaded in the master, nor with telemetry off.
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { installTracing } from '@clutch/cluster/tracing';
import { MessengerTracing } from './messenger-tracing.js';
import { TelemetrySdk } from './sdk.js';

// ESM instrumentation: the loader wraps only the modules an instrumentation asked for (the message
// channel tells it which), not every module the process imports.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

const sdk = new TelemetrySdk();
installTracing(new MessengerTracing(sdk));
await waitForAllMessagesAcknowledged();
