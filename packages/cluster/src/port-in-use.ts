import { ClusterErrorCode, ClutchError } from './errors.js';
import type { ListenConfig } from './framework.js';

/** Turns EADDRINUSE into an error that names the port (or path) and, for a port, a free one nearby. */
export async function portInUse(err: NodeJS.ErrnoException, listen: ListenConfig): Promise<never> {
  if (err.code !== 'EADDRINUSE') throw err;
  if (listen.path) {
    throw new ClutchError(ClusterErrorCode.PORT_IN_USE, `The socket path ${listen.path} is already in use`, { cause: err });
  }
  const port = listen.port ?? 0;
  // Loaded only here, on the failure path: a worker that starts normally never pays for it.
  const { detectPort } = await import('detect-port');
  const free = await detectPort(port + 1).catch(() => null);
  const hint = free ? `; port ${free} is free (--port ${free})` : '';
  throw new ClutchError(ClusterErrorCode.PORT_IN_USE, `Port ${port}${listen.hostname ? ` on ${listen.hostname}` : ''} is already in use${hint}`, {
    cause: err,
  });
}
