import { createRequire } from 'node:module';

/**
 * node:http and its TLS siblings as CommonJS loads them, for the modules every process loads at
 * start. On Node ≥ 22 an ESM `import … from 'node:http'` builds the module's ESM facade by reading
 * every export, and reading `WebSocket`, `EventSource` and the like loads undici: ~30 ms of CPU in
 * each process that imports it, for nothing the framework uses (docs/performance.md, "node:http as
 * CommonJS").
 * `require` hands over the exports object and reads nothing. Types still come from `import type`.
 */
const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof import('node:http');

/** node:https, loaded on first use: a cluster without `cluster.listen.tls` never loads it. */
export const https = (): typeof import('node:https') => require('node:https') as typeof import('node:https');

/** node:http2, loaded on first use: only `cluster.listen.http2: true` (with `tls`) needs it. */
export const http2 = (): typeof import('node:http2') => require('node:http2') as typeof import('node:http2');
