import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import type { ControlRequest, ControlResponse } from './control.js';
import { ClusterErrorCode, ClutchError, deserializeError } from './errors.js';

type Command = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id'> : never) : never;

let nextId = 1;

/**
 * Sends one command to the master listening on `path` and resolves with its reply's data. Rejects
 * with CLUTCH_ERR_CONTROL_NOT_RUNNING when nothing listens there, and with the master's own error
 * (its code kept) when the command failed.
 */
export function sendControl(path: string, command: Command, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ClutchError(ClusterErrorCode.NOT_RUNNING, `The master did not answer "${command.cmd}" within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
        reject(new ClutchError(ClusterErrorCode.NOT_RUNNING, 'No cluster is running from this directory with this title', { cause: err }));
      else reject(err);
    });
    socket.once('connect', () => socket.write(`${JSON.stringify({ ...command, id })}\n`));
    const lines = createInterface({ input: socket });
    // readline re-emits the socket's errors; the socket's own handler above reports them.
    lines.on('error', () => {});
    lines.on('line', (line) => {
      const response = JSON.parse(line) as ControlResponse;
      if (response.id !== id) return;
      clearTimeout(timer);
      socket.end();
      if (response.ok) resolve(response.data);
      else reject(deserializeError(response.error));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new ClutchError(ClusterErrorCode.NOT_RUNNING, `The master closed the control channel before answering "${command.cmd}"`));
    });
  });
}
