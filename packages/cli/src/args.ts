import { parseArgs, type ParseArgsConfig } from 'node:util';
import bytes from 'bytes';
import { CliErrorCode, UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type ParsedFlags<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Parses a command's flags strictly: an unknown flag or a missing value is a UsageError naming it. */
export function parseFlags<O extends Options>(args: string[], options: O, maxPositionals: number): ParsedFlags<O> {
  let parsed: ParsedFlags<O>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const code = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? CliErrorCode.UNKNOWN_FLAG : CliErrorCode.BAD_VALUE;
    throw new UsageError(code, e.message);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(CliErrorCode.BAD_VALUE, `Unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed;
}

/** Reads an integer flag within [min, max]; undefined when the flag is absent. */
export function intFlag(name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(CliErrorCode.BAD_VALUE, `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a size flag: bytes, or a size like 512MB or 1GB; undefined when the flag is absent. */
export function sizeFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : bytes.parse(raw);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(CliErrorCode.BAD_VALUE, `--${name} must be a size in bytes or like 512MB, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

/** Reads a duration flag: milliseconds, or a number with ms, s or m ('2s', '500ms', '1.5m'), as schedule intervals are written; undefined when absent. */
export function durationFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(raw);
  const value = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(CliErrorCode.BAD_VALUE, `--${name} must be a duration like 2s, 500ms or 1m, got ${JSON.stringify(raw)}`);
  }
  return value;
}
