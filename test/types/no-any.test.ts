import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('the public API of @clutch/cluster, core, cli and mock has no `any` in its declarations', () => {
  const found: string[] = [];
  let files = 0;
  for (const pkg of ['cluster', 'core', 'cli', 'mock']) {
    const dist = join(root, 'packages', pkg, 'dist');
    for (const file of (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts'))) {
      files++;
      const path = join(dist, file);
      const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (node.kind === ts.SyntaxKind.AnyKeyword) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          found.push(`packages/${pkg}/dist/${file}:${line + 1}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  assert.ok(files > 20, `read ${files} declaration files`);
  assert.deepEqual(found, []);
});
