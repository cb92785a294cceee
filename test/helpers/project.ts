import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from './cluster.ts';

/** Scratch copies of fixtures live inside the repository (gitignored) so '@clutch/core' resolves. */
const WORK = fileURLToPath(new URL('../.work', import.meta.url));

/** Copies a fixture to a fresh folder a test may modify; `remove()` deletes it. */
export function copyFixture(name: string): {
  dir: string;
  edit(file: string, from: string, to: string): void;
  write(file: string, text: string): void;
  remove(): void;
} {
  const dir = join(WORK, `${name}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(WORK, { recursive: true });
  cpSync(fixture(name), dir, { recursive: true });
  return {
    dir,
    edit(file, from, to) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
      writeFileSync(path, text.replace(from, to));
    },
    write(file, text) {
      writeFileSync(join(dir, file), text);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
