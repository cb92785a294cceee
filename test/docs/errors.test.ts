import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ClusterErrorCode } from '@clutch/cluster';
import { CoreErrorCode } from '@clutch/core';
import { CliErrorCode } from '../../packages/cli/src/errors.ts';

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

/** The registries, by the name a test reaches a code through (`ClusterErrorCode.RELOAD_REFUSED`). */
const REGISTRIES: Record<string, Record<string, string>> = { ClusterErrorCode, CoreErrorCode, CliErrorCode };

/** Every test file, and the helpers that hold their scenarios; not the fixtures (they raise, they do not assert). */
function testFiles(): string[] {
  const files: string[] = [];
  for (const dir of ['test', 'apps']) {
    for (const file of readdirSync(join(root, dir), { recursive: true }) as string[]) {
      if (file.endsWith('.ts') && !file.includes('node_modules') && !file.includes('fixtures')) files.push(join(root, dir, file));
    }
  }
  return files;
}

/** Calls that fail the test unless what they are given holds (`until` and `waitForLine` throw past their deadline). */
const ASSERTING = new Set(['assert', 'expect', 'until', 'waitForLine']);
/** node:assert's checks that something is absent: they assert no code. */
const NEGATIVE = new Set(['doesNotMatch', 'doesNotThrow', 'doesNotReject', 'notEqual', 'notStrictEqual', 'notDeepEqual', 'notDeepStrictEqual']);

/** An assertion: node:assert's (and `t.assert`'s) but the negative ones, an `expect(...)` chain, a bounded wait. */
function isAssertion(call: ts.CallExpression): boolean {
  let callee: ts.Expression = call.expression;
  if (ts.isPropertyAccessExpression(callee) && NEGATIVE.has(callee.name.text)) return false;
  while (ts.isPropertyAccessExpression(callee) || ts.isCallExpression(callee)) {
    if (ts.isPropertyAccessExpression(callee) && ASSERTING.has(callee.name.text)) return true;
    callee = callee.expression;
  }
  return ts.isIdentifier(callee) && ASSERTING.has(callee.text);
}

/**
 * Whether the code at `node` is asserted: it reaches an assertion's arguments — itself, in a RegExp,
 * in an expected object, through a call that builds the expectation (`hasCode(...)`, `.includes(...)`),
 * or through a callback's returned check — or it is one side of a comparison (`err.code === ...`) or
 * the `code` of an object (an expected error, a case of a table). A statement ends the walk: a
 * comment, a test's title, a log line, a variable never compared are only mentions.
 */
function assertsAt(node: ts.Node): boolean {
  for (let at: ts.Node = node; at.parent; at = at.parent) {
    const parent = at.parent;
    if (ts.isCallExpression(parent)) {
      if (isAssertion(parent)) return true;
      continue;
    }
    if (ts.isBinaryExpression(parent)) {
      const op = parent.operatorToken.kind;
      return [
        ts.SyntaxKind.EqualsEqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsEqualsToken,
        ts.SyntaxKind.EqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsToken,
      ].includes(op);
    }
    if (ts.isPropertyAssignment(parent) && parent.initializer === at && ts.isIdentifier(parent.name) && parent.name.text === 'code') return true;
    const passesThrough =
      ts.isPropertyAssignment(parent) ||
      ts.isObjectLiteralExpression(parent) ||
      ts.isArrayLiteralExpression(parent) ||
      ts.isParenthesizedExpression(parent) ||
      ts.isNewExpression(parent) ||
      ts.isTemplateSpan(parent) ||
      ts.isTemplateExpression(parent) ||
      ts.isPropertyAccessExpression(parent) ||
      ts.isAwaitExpression(parent) ||
      (ts.isArrowFunction(parent) && parent.body === at);
    if (!passesThrough) return false;
  }
  return false;
}

/** The codes `text` (a test file) asserts, by their literal, as an object's key, or through a registry's constant. */
function assertedCodes(text: string, file: string): Set<string> {
  const codes = new Set<string>();
  const visit = (node: ts.Node): void => {
    let found: string[] = [];
    let at: ts.Node = node;
    if (ts.isStringLiteralLike(node) || ts.isRegularExpressionLiteral(node)) found = node.text.match(CODE) ?? [];
    else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      found = node.text.match(CODE) ?? [];
      at = node.parent;
    } else if (ts.isIdentifier(node) && ts.isPropertyAssignment(node.parent) && node.parent.name === node) {
      found = node.text.match(CODE) ?? [];
      at = node.parent;
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const code = REGISTRIES[node.expression.text]?.[node.name.text];
      if (code) found = [code];
    }
    if (found.length > 0 && assertsAt(at)) for (const c of found) codes.add(c);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
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
  const asserted = new Set<string>();
  for (const file of testFiles()) for (const code of assertedCodes(readFileSync(file, 'utf8'), file)) asserted.add(code);
  assert.deepEqual([...inDocs].filter((c) => !asserted.has(c)).sort(), [], 'codes no test asserts');
});

it('a code a test only mentions (a comment, a title, a log line it prints) does not count as asserted', () => {
  const mentioned = [
    '// CLUTCH_ERR_ONE in a comment',
    "it('exits with CLUTCH_ERR_TWO', () => {});",
    "console.log('CLUTCH_ERR_THREE');",
    'const expected = ClusterErrorCode.RELOAD_REFUSED;',
  ].join('\n');
  assert.deepEqual([...assertedCodes(mentioned, 'mentions.ts')], []);
  const assertedText = [
    'assert.match(stderr, /CLUTCH_ERR_ONE/);',
    "await assert.rejects(run(), { code: 'CLUTCH_ERR_TWO' });",
    "assert.equal(err.code, 'CLUTCH_ERR_THREE');",
    'expect(err.code).toBe(ClusterErrorCode.RELOAD_REFUSED);',
    "if (failure.code !== 'CLUTCH_ERR_FOUR') throw new Error('wrong code');",
    'await app.waitForLine(/CLUTCH_ERR_FIVE/, 5_000);',
  ].join('\n');
  assert.deepEqual([...assertedCodes(assertedText, 'asserts.ts')].sort(), [
    'CLUTCH_ERR_CLUSTER_RELOAD_REFUSED',
    'CLUTCH_ERR_FIVE',
    'CLUTCH_ERR_FOUR',
    'CLUTCH_ERR_ONE',
    'CLUTCH_ERR_THREE',
    'CLUTCH_ERR_TWO',
  ]);
});
