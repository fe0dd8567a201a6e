/**
 * Small pieces (docs/contributing/design.md): no file in src/ or in the dashboard's ui/src/ is over 400 lines and no
 * function (or component) over 60, so each can be read on one screen or two. Declarative tables are data, not functions, and are not counted; a function
 * nested in another counts towards its parent too, as a reader has to read through it.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../kit/sources.ts';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCES = ['src', 'ui/src'].map((dir) => path.join(ROOT, dir));
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText(source);
  }
  if (parent && ts.isCallExpression(parent)) return `callback of ${parent.expression.getText(source).slice(0, 40)}`;
  return '(anonymous)';
}

function longFunctions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_FUNCTION_LINES) found.push(`${path.relative(ROOT, file)}:${start + 1} ${functionName(node, source)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = SOURCES.flatMap((dir) => sourceFiles(dir, /\.tsx?$/));

describe('architecture: small files and functions', () => {
  it(`no file in src/ or ui/src/ is over ${MAX_FILE_LINES} lines`, () => {
    const big = files
      .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ f, lines }) => `${path.relative(ROOT, f)} (${lines} lines)`);
    assert.deepEqual(big, [], `files over ${MAX_FILE_LINES} lines:\n${big.join('\n')}`);
  });

  it(`no function in src/ or ui/src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap(longFunctions);
    assert.deepEqual(long, [], `functions over ${MAX_FUNCTION_LINES} lines:\n${long.join('\n')}`);
  });
});
