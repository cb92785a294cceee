import bytes from 'bytes';
import { parseInterval } from '../schedule.js';
import type { ConfigFail } from './framework-plugin.js';
import { isPlainObject, type PlainObject } from './merge-config.js';

/** Node's own `server.requestTimeout`, which a `headersTimeout` may not exceed. */
const NODE_REQUEST_TIMEOUT = 300_000;

/** A size: bytes, or what the `bytes` package reads ('32kb', '1.5gb'); null when it is neither. */
function size(raw: unknown): number | null {
  const value = typeof raw === 'string' ? bytes.parse(raw) : raw;
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/**
 * Checks what each worker's HTTP server is given — its limits and load shedding (docs/operations.md,
 * "Limits" and "Load shedding") — and turns sizes and durations into bytes and ms.
 */
export function checkServer(cluster: PlainObject, fail: ConfigFail): void {
  if (cluster.requestTimeout !== undefined && (!Number.isInteger(cluster.requestTimeout) || (cluster.requestTimeout as number) < 0))
    fail('cluster.requestTimeout', 'a number of milliseconds, 0 (no limit) or more', cluster.requestTimeout);
  if (cluster.headersTimeout !== undefined) {
    const headers = cluster.headersTimeout;
    if (typeof headers !== 'number' || !Number.isInteger(headers) || headers <= 0) fail('cluster.headersTimeout', 'a positive number of milliseconds', headers);
    const request = (cluster.requestTimeout as number | undefined) ?? NODE_REQUEST_TIMEOUT;
    if (request > 0 && headers > request) fail('cluster.headersTimeout', `at most cluster.requestTimeout (${request}ms), as Node requires`, headers);
  }
  if (cluster.maxHeaderSize !== undefined) {
    const value = size(cluster.maxHeaderSize);
    if (value === null) fail('cluster.maxHeaderSize', "a positive number of bytes or a size like '32kb'", cluster.maxHeaderSize);
    cluster.maxHeaderSize = value;
  }
  if (cluster.overload !== undefined) cluster.overload = checkOverload(cluster.overload, fail);
}

function checkOverload(raw: unknown, fail: ConfigFail): PlainObject {
  const keys = 'maxEventLoopDelay, maxEventLoopUtilization, maxHeapUsedBytes, maxRssBytes, retryAfter';
  if (!isPlainObject(raw)) fail('cluster.overload', `an object { ${keys} }`, raw);
  const input = raw;
  for (const key of Object.keys(input)) if (!keys.split(', ').includes(key)) fail(`cluster.overload.${key}`, `one of ${keys}`, input[key]);
  const out: PlainObject = {};
  if (input.maxEventLoopDelay !== undefined) {
    const ms = parseInterval(input.maxEventLoopDelay as number | string);
    if (ms === null) fail('cluster.overload.maxEventLoopDelay', "a positive duration (ms, or like '200ms')", input.maxEventLoopDelay);
    out.maxEventLoopDelay = ms;
  }
  if (input.maxEventLoopUtilization !== undefined) {
    const u = input.maxEventLoopUtilization;
    if (typeof u !== 'number' || !(u > 0 && u <= 1)) fail('cluster.overload.maxEventLoopUtilization', 'a number above 0, at most 1', u);
    out.maxEventLoopUtilization = u;
  }
  for (const key of ['maxHeapUsedBytes', 'maxRssBytes'] as const) {
    if (input[key] === undefined) continue;
    const value = size(input[key]);
    if (value === null) fail(`cluster.overload.${key}`, "a positive number of bytes or a size like '1.5gb'", input[key]);
    out[key] = value;
  }
  if (Object.keys(out).length === 0) fail('cluster.overload', `at least one limit (${keys.split(', ').slice(0, 4).join(', ')})`, raw);
  const retry = input.retryAfter === undefined ? 10_000 : parseInterval(input.retryAfter as number | string);
  if (retry === null) fail('cluster.overload.retryAfter', "a positive duration (ms, or like '10s')", input.retryAfter);
  out.retryAfter = retry;
  return out;
}
