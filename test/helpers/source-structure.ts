/**
 * Reads the production sources and reports the structural facts issue 18 asks to hold: no import
 * cycles, no file over MAX_FILE_LINES lines, no function over MAX_FUNCTION_LINES, components that
 * import nothing but core/ (and core nothing above it), and a CLI that reaches components only
 * through their index.ts. Used by test/architecture.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;

/** Where production code lives (tests and the benchmark are not held to these rules). */
export const PRODUCTION_DIRS = ['core', 'receivers', 'processors', 'exporters', 'extensions', 'bin', 'scripts'] as const;

export interface SourceFile {
  path: string; // relative to the repository, with '/'
  lines: number;
  imports: string[]; // repository-relative paths of the local modules it imports or re-exports
  functions: { name: string; line: number; lines: number }[];
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(root, path, out);
    else if (/\.(ts|mts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.mts')) out.push(path);
  }
}

/** The local module a specifier names, as a repository-relative path; undefined for packages. */
function resolveImport(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(root, dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), target];
  const found = candidates.find((c) => existsSync(c)) ?? candidates[0];
  return relative(root, found).split('\\').join('/');
}

function specifiers(source: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  return '(anonymous)';
}

function functions(source: ts.SourceFile): SourceFile['functions'] {
  const out: SourceFile['functions'] = [];
  const lineOf = (pos: number): number => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const line = lineOf(fn.getStart(source));
      out.push({ name: functionName(fn), line, lines: lineOf(fn.getEnd()) - line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function exportedNames(source: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const statement of source.statements) {
    if (!ts.canHaveModifiers(statement) || !ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) out.push(d.name.text);
    } else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)
      || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) {
      out.push(statement.name.text);
    }
  }
  return out;
}

function sourcePaths(root: string, dirs: readonly string[]): string[] {
  const paths: string[] = [];
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(root, dir, paths);
  return paths.sort();
}

export function readSources(root: string): SourceFile[] {
  return sourcePaths(root, PRODUCTION_DIRS).map((path) => {
    const text = readFileSync(join(root, path), 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    return {
      path,
      lines: text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length,
      imports: specifiers(source).map((s) => resolveImport(root, path, s)).filter((p): p is string => p !== undefined),
      functions: functions(source),
    };
  });
}

/** Every strongly connected group of files that import each other, each listed in path order. */
export function importCycles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.path, f.imports]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

/** `receivers/otlp`, `exporters/clickhouse`...: the component a path belongs to, if any. */
export function componentOf(path: string): string | undefined {
  const m = /^(receivers|processors|exporters|extensions)\/([^/]+)\//.exec(path);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** Imports that cross the layers: component → other component (or bin/scripts), core → above core, CLI → inside a component. */
export function layerViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const own = componentOf(f.path);
    for (const target of f.imports) {
      const theirs = componentOf(target);
      if (own !== undefined) {
        if (!target.startsWith('core/') && theirs !== own) out.push(`${f.path} imports ${target} (a component imports only core/ and its own files)`);
      } else if (f.path.startsWith('core/')) {
        if (!target.startsWith('core/')) out.push(`${f.path} imports ${target} (core/ imports nothing above it)`);
      } else if (theirs !== undefined && target !== `${theirs}/index.ts`) {
        out.push(`${f.path} imports ${target} (the CLI and scripts reach a component only through its index.ts)`);
      }
    }
  }
  return out;
}

export function longFiles(files: readonly SourceFile[]): string[] {
  return files.filter((f) => f.lines > MAX_FILE_LINES).map((f) => `${f.path}: ${f.lines} lines`);
}

export function longFunctions(files: readonly SourceFile[]): string[] {
  return files.flatMap((f) => f.functions.filter((fn) => fn.lines > MAX_FUNCTION_LINES).map((fn) => `${f.path}:${fn.line} ${fn.name}: ${fn.lines} lines`));
}

/** A module's text and the names it declares with `export`, for the dead-export check. */
export interface ModuleExports { path: string; text: string; exported: string[] }

export function readExports(root: string, dirs: readonly string[] = PRODUCTION_DIRS): ModuleExports[] {
  return sourcePaths(root, dirs).map((path) => {
    const text = readFileSync(join(root, path), 'utf8');
    return { path, text, exported: exportedNames(ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)) };
  });
}

/**
 * Exports whose name appears nowhere but in their own declaration, in any module of `everything`
 * (production, tests, benchmark): dead code. A name shared with something else hides a dead
 * export; it never flags a live one.
 */
export function deadExports(modules: readonly ModuleExports[], everything: readonly ModuleExports[]): string[] {
  const counts = new Map<string, number>();
  for (const m of everything) for (const [word] of m.text.matchAll(/[A-Za-z_$][\w$]*/g)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return modules.flatMap((m) => m.exported.filter((name) => counts.get(name) === 1).map((name) => `${m.path}: ${name}`));
}
