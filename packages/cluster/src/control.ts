/**
 * The local control channel between the `app` command and a running master: a unix socket in a
 * directory only the same OS user can enter (0700, owned by them), named after the project's real
 * path and the cluster's title. No TCP port, and no scanning of processes by name: `app stop` finds
 * exactly the cluster started from that directory with that title. One JSON object per line.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterErrorCode, ClutchError, type SerializedError } from './errors.js';

export type ControlRequest =
  | { id: number; cmd: 'status' }
  | { id: number; cmd: 'stop'; timeout?: number }
  | { id: number; cmd: 'reload'; workers?: boolean; agent?: boolean };

export type ControlResponse = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: SerializedError };

function uid(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
}

/** The per-user directory holding every control socket; created 0700 and checked. */
export function controlDir(): string {
  const dir = join(tmpdir(), `clutch-${uid()}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  const ownerOk = typeof process.getuid !== 'function' || info.uid === process.getuid();
  if (!info.isDirectory() || !ownerOk || (info.mode & 0o077) !== 0) {
    throw new ClutchError(ClusterErrorCode.CONTROL_UNSAFE, `${dir} must be a directory owned by you with mode 0700; fix or remove it`);
  }
  return dir;
}

/** The control socket of the cluster started from `baseDir` with `title`. */
export function controlSocketPath(baseDir: string, title: string): string {
  const id = createHash('sha256').update(`${realpathSync(baseDir)}\0${title}`).digest('hex').slice(0, 24);
  return join(controlDir(), `${id}.sock`);
}
