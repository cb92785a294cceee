/** Another OS user for tests that need one: nobody, which every Linux has and which owns nothing here. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The unprivileged user the tests act as when they need another user (and run PostgreSQL as, when root). */
export const NOBODY = 65534;

/** True when any user may run `file`: it and every folder above it are open to others. */
export function openToOthers(file: string): boolean {
  for (let p = file; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/** A node binary another user can run: this one, unless it lives in a private folder (npx's cache under /root). */
export function nodeForOthers(): string {
  const candidates = [process.execPath, ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'node'))];
  const found = candidates.find((c) => existsSync(c) && openToOthers(c));
  if (!found) throw new Error(`no node binary that uid ${NOBODY} may run (tried ${candidates.join(', ')})`);
  return found;
}
