import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const packages = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Every file an `exports` entry names, whatever the nesting of conditions. */
function targets(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (entry && typeof entry === 'object') return Object.values(entry).flatMap(targets);
  return [];
}

it("every package's exports, main, types and bin name files that exist after the build", () => {
  const missing: string[] = [];
  let checked = 0;
  for (const name of readdirSync(packages)) {
    const dir = join(packages, name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const bin = typeof pkg.bin === 'string' ? [pkg.bin] : targets(pkg.bin);
    for (const file of [...targets(pkg.exports), ...targets(pkg.main), ...targets(pkg.types), ...bin]) {
      checked++;
      if (!existsSync(join(dir, file))) missing.push(`packages/${name}: ${file}`);
    }
  }
  assert.ok(checked > 10, `checked ${checked} entries`);
  assert.deepEqual(missing, []);
});
