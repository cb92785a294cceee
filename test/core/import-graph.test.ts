/**
 * The layering of @clutch/core, read from its source: the egg wing (src/egg/) builds on the kernel,
 * and nothing in the kernel or under loader/ reaches back into it — only the public face (index.ts)
 * and the framework entry (framework.ts) do.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const src = fileURLToPath(new URL('../../packages/core/src/', import.meta.url));
const WING = 'egg/';
/** The files that may reach into the wing: they put the kernel and the wing together. */
const ASSEMBLY = new Set(['index.ts', 'framework.ts']);

/** Every module a file names — imports and exports (type-only too), import() and import types, module augmentations — resolved to a path under src. */
function imports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      specifiers.push(node.moduleSpecifier.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0]))
      specifiers.push(node.arguments[0].text);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal))
      specifiers.push(node.argument.literal.text);
    else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) specifiers.push(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(src, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

it('nothing in the kernel or under loader/ imports the egg wing; the wing does not import the public index or the framework entry', () => {
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
  const graph = new Map(files.map((f) => [f, imports(join(src, f))]));
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const inWing = file.startsWith(WING);
    for (const target of targets) {
      if (!inWing && !ASSEMBLY.has(file) && target.startsWith(WING)) wrong.push(`${file} → ${target} (the kernel imports the wing)`);
      if (inWing && ASSEMBLY.has(target)) wrong.push(`${file} → ${target} (the wing imports the assembly)`);
    }
  }
  // Not vacuous: the wing is there, built on the kernel, and the assembly puts it in.
  assert.ok(files.filter((f) => f.startsWith(WING)).length >= 10, `the wing has ${files.filter((f) => f.startsWith(WING)).length} files`);
  assert.ok(graph.get('index.ts')?.includes('egg/index.ts'), "core's index re-exports the wing");
  assert.ok(graph.get('framework.ts')?.includes('egg/install.ts'), 'the framework entry installs the wing');
  assert.ok(graph.get('egg/plugins.ts')?.includes('loader/framework-plugin.ts'), 'the wing builds on the loader');
  assert.deepEqual(wrong, []);
});
