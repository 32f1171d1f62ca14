// Measures every function in operator/ and prints the longest, with file:line (issue 13: "no function in
// operator/ over 100 lines; measure and print it"). Run by the lint gate of scripts/test.sh; exits 1 when a
// function is over the limit, listing each one.
//
// "Lines" means what ESLint's `max-lines-per-function` counts with skipBlankLines and skipComments off (as
// eslint.config.js sets it): every physical line from the function's first line to its last, blank lines and
// comments inside it included, nested functions included in their parent. So this printout and the lint rule
// always agree (test/unit/lint/function-lengths.test.ts compares them on the real sources).
//
//   node scripts/function-lengths.ts [--top N] [--max N] [DIR_OR_FILE ...]   (default: --top 10 --max 100 operator;
//   paths are relative to the repository root)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  /** `name`, `Class.method`, `Class.constructor`, or `(anonymous in outer)`. */
  name: string;
  file: string;
  /** 1-based line of the function's first line, as ESLint reports it. */
  line: number;
  lines: number;
}

/** The functions the issue names: they must be among the short ones, so the printout always shows them. */
export const WATCHED = ['Reconciler.reconcile', 'startOperator'];

type FunctionNode = ts.FunctionLikeDeclaration;

function isMeasured(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

function ownName(node: FunctionNode, sf: ts.SourceFile): string | undefined {
  const className = (n: ts.Node) => (ts.isClassLike(n.parent) ? `${n.parent.name?.getText(sf) ?? '(class)'}.` : '');
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (node.name) return `${ts.isFunctionDeclaration(node) ? '' : className(node)}${node.name.getText(sf)}`;
  const p = node.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))
    return `${ts.isPropertyDeclaration(p) ? className(p) : ''}${p.name.getText(sf)}`;
  return undefined;
}

/** Where ESLint's node for this function starts: typescript-estree starts a method's (and accessor's and
 *  constructor's) FunctionExpression at its type parameters or `(`, every other function at its first token. */
function startPos(node: FunctionNode, sf: ts.SourceFile): number {
  const classMember =
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node);
  if (!classMember) return node.getStart(sf);
  const open = node
    .getChildren(sf)
    .find((c) => c.kind === ts.SyntaxKind.LessThanToken || c.kind === ts.SyntaxKind.OpenParenToken);
  return (open ?? node).getStart(sf);
}

/** Every function in one source text, measured as ESLint's max-lines-per-function measures it. */
export function functionLengths(file: string, text: string): FunctionLength[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node, outer: string | undefined): void => {
    let inner = outer;
    // Overload signatures and abstract methods have no body: not functions ESLint measures.
    if (isMeasured(node) && node.body) {
      const name = ownName(node, sf) ?? `(anonymous in ${outer ?? 'module'})`;
      const first = sf.getLineAndCharacterOfPosition(startPos(node, sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ name, file, line: first + 1, lines: last - first + 1 });
      inner = name;
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sf, undefined);
  return out;
}

function tsFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return path.endsWith('.ts') ? [path] : [];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules')
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => tsFiles(join(path, e.name)));
}

/** Every function under the given files or folders, longest first (ties by file and line). */
export function measureTree(root: string, paths: string[]): FunctionLength[] {
  return paths
    .flatMap((p) => tsFiles(resolve(root, p)))
    .flatMap((f) => functionLengths(relative(root, f), readFileSync(f, 'utf8')))
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: expected a whole number, got '${args[i + 1]}'`);
  args.splice(i, 2);
  return v;
}

const row = (f: FunctionLength) => `${String(f.lines).padStart(5)}  ${`${f.file}:${f.line}`.padEnd(52)}  ${f.name}`;

function main(argv: string[]): number {
  const args = [...argv];
  const top = flag(args, '--top', 10);
  const max = flag(args, '--max', 100);
  const root = join(import.meta.dirname, '..');
  const paths = args.length > 0 ? args : ['operator'];
  const all = measureTree(root, paths);
  const files = new Set(all.map((f) => f.file)).size;
  console.log(`Longest functions in ${paths.join(', ')} (lines from first to last, blank and comment lines included):`);
  for (const f of all.slice(0, top)) console.log(row(f));
  for (const name of WATCHED) {
    const found = all.filter((f) => f.name === name);
    for (const f of found) console.log(`${row(f)}   (rank ${all.indexOf(f) + 1} of ${all.length})`);
    if (found.length === 0 && paths.includes('operator')) console.log(`    -  ${name} not found`);
  }
  const over = all.filter((f) => f.lines > max);
  if (over.length > 0) {
    console.log(`${over.length} function(s) over ${max} lines (split them; ESLint's max-lines-per-function agrees):`);
    for (const f of over) console.log(row(f));
    return 1;
  }
  console.log(`${all.length} functions in ${files} files; none over ${max} lines.`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`function-lengths: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
