/** The messages of `app profile` between the master and a child (protocol.ts carries them in its unions). */
import type { ProfileKind } from './control.js';
import type { SerializedError } from './errors.js';

/** Child → master: part of the profile asked for by `profile` order `id`; the last has `done` (and `error` if it failed). */
export interface ProfileDataMessage {
  clutch: 'profile-data';
  id: number;
  chunk?: string;
  done?: boolean;
  error?: SerializedError;
}
/** Master → child: take a CPU profile (for `durationMs`) or a heap snapshot of yourself, and send it back (ProfileDataMessage). */
export interface ProfileMessage {
  clutch: 'profile';
  id: number;
  kind: ProfileKind;
  durationMs: number;
}
