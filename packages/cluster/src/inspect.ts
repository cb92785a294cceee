import { Session } from 'node:inspector/promises';
import type { ProfileKind } from './control.js';
import { serializeError } from './errors.js';
import type { ProfileMessage } from './operator-protocol.js';
import type { ChildMessage } from './protocol.js';

/** How much of a profile goes in one IPC message: the master reads the others between them. */
const CHUNK_CHARS = 1 << 20;

/**
 * Takes a CPU profile (sampling for `durationMs`, the process serving meanwhile) or a heap snapshot
 * of this very process, through `node:inspector` — no `--inspect`, no port: a session inside the
 * process. Resolves with the text DevTools opens: a `.cpuprofile` or a `.heapsnapshot`. A heap
 * snapshot stops the process's event loop while V8 writes it (its requests wait, none fails).
 */
export async function takeProfile(kind: ProfileKind, durationMs: number): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    if (kind === 'cpu') {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await new Promise((r) => setTimeout(r, durationMs));
      const { profile } = await session.post('Profiler.stop');
      await session.post('Profiler.disable');
      return JSON.stringify(profile);
    }
    const chunks: string[] = [];
    session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
    await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    return chunks.join('');
  } finally {
    session.disconnect();
  }
}

/** A child's answer to the master's `profile` order: the profile in chunks, then `done` (or an error). */
export function answerProfile(order: ProfileMessage, send: (message: ChildMessage) => void): void {
  takeProfile(order.kind, order.durationMs).then(
    (text) => {
      for (let at = 0; at < text.length; at += CHUNK_CHARS) send({ clutch: 'profile-data', id: order.id, chunk: text.slice(at, at + CHUNK_CHARS) });
      send({ clutch: 'profile-data', id: order.id, done: true });
    },
    (err: unknown) => send({ clutch: 'profile-data', id: order.id, done: true, error: serializeError(err) }),
  );
}
