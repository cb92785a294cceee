import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CODE = /CLUTCH_ERR_[A-Z0-9_]+[A-Z0-9]/g;
/** A code as the source raises it: a string literal (comments and prose do not count). */
const RAISED = /'(CLUTCH_ERR_[A-Z0-9_]+[A-Z0-9])'/g;

function codesIn(dir: string): Set<string> {
  const codes = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(RAISED)) codes.add(m[1]!);
  }
  return codes;
}

it('docs/errors.md lists every error code the packages raise, and no other', () => {
  const inSource = new Set<string>();
  for (const pkg of readdirSync(join(root, 'packages'))) for (const c of codesIn(join(root, 'packages', pkg, 'src'))) inSource.add(c);
  const inDocs = new Set(readFileSync(join(root, 'docs', 'errors.md'), 'utf8').match(CODE));
  assert.ok(inSource.size > 20, `found ${inSource.size} codes in the source`);
  assert.deepEqual([...inSource].filter((c) => !inDocs.has(c)).sort(), [], 'codes missing from docs/errors.md');
  assert.deepEqual([...inDocs].filter((c) => !inSource.has(c)).sort(), [], 'codes documented but never raised');
});

it('every error code in docs/errors.md is asserted by some test', () => {
  const inDocs = new Set(readFileSync(join(root, 'docs', 'errors.md'), 'utf8').match(CODE));
  const tests: string[] = [];
  const walk = (dir: string) => {
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      // Tests and the helpers that hold their scenarios; not the fixtures (they raise, they do not assert).
      if (file.endsWith('.ts') && !file.includes('node_modules') && !file.includes('fixtures')) tests.push(readFileSync(join(dir, file), 'utf8'));
    }
  };
  walk(join(root, 'test'));
  walk(join(root, 'apps'));
  const text = tests.join('\n');
  assert.deepEqual([...inDocs].filter((c) => !text.includes(c)).sort(), [], 'codes no test names');
});
