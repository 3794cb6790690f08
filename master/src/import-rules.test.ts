// The master's layering, checked over every module of master/src so it stays true:
//
//   records/   the ground floor: the domain records every folder imports; it imports only itself
//   domain     config, store, auth, scheduler, cluster, tasks, dags, artifacts, files, logs,
//              telemetry, metrics (and the root helpers): never a transport folder
//   transport  grpc/, http/, live/, repl/: translate and delegate
//
// Only grpc/ speaks the wire: elsewhere '@wharf/proto' gives helpers (units, the CA hash, the atomic
// write), never a message type.
// tasks/ is entered through its facade (task-service.ts) and its submission rules (task-input.ts):
// no other folder reaches into its systems or takes a record from it. Test helpers (testing/)
// serve tests only. And no import cycles.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = import.meta.dirname;
const TRANSPORT = new Set(['grpc', 'http', 'live', 'repl']);
/** The modules of tasks/ that other folders may import. */
const TASKS_ENTRIES = new Set(['tasks/task-service.ts', 'tasks/task-input.ts']);
/** What '@wharf/proto' may give outside grpc/: unit helpers, the CA hash, the atomic write; no wire shapes. */
const PROTO_HELPERS = new Set(['parseBytes', 'parseCpu', 'formatBytes', 'caCertificateHash', 'CA_HASH_PATTERN', 'writeFileAtomic']);

interface ModuleImport {
  /** the imported module, relative to master/src (relative imports only) */
  target?: string | undefined;
  specifier: string;
  names: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): ModuleImport[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: ModuleImport[] = [];
  const add = (specifier: string, names: string[]): void => {
    const target = specifier.startsWith('.') ? relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : undefined;
    found.push({ target, specifier, names });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const names: string[] = [];
      const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      if (bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) {
        for (const element of bindings.elements) names.push((element.propertyName ?? element.name).text);
      } else if (bindings) {
        names.push('*');
      }
      add(node.moduleSpecifier.text, names);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) add(argument.text, ['*']);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The folder of a module relative to master/src ('' for the root files). */
function folderOf(module: string): string {
  const parts = module.split('/');
  return parts.length > 1 ? parts[0]! : '';
}

const modules = new Map(
  sourceFiles(SRC)
    .filter((file) => !file.endsWith('.test.ts'))
    .map((file) => [relative(SRC, file), importsOf(file)] as const),
);

function violations(rule: (module: string, imported: ModuleImport) => string | undefined): string[] {
  const found: string[] = [];
  for (const [module, imports] of modules) {
    for (const imported of imports) {
      const why = rule(module, imported);
      if (why) found.push(`${module} imports ${imported.specifier}: ${why}`);
    }
  }
  return found;
}

describe('the master keeps its layers', () => {
  it('finds the modules it checks', () => {
    expect(modules.has('tasks/task-service.ts')).toBe(true);
    expect(modules.has('records/task.ts')).toBe(true);
    expect([...modules.keys()].filter((m) => m.startsWith('records/')).length).toBeGreaterThanOrEqual(6);
  });

  it('keeps records on the ground floor: they import only each other', () => {
    expect(
      violations((module, imported) => {
        if (folderOf(module) !== 'records') return undefined;
        if (imported.target === undefined) return 'records import no packages';
        return folderOf(imported.target) === 'records' ? undefined : 'records import only records';
      }),
    ).toEqual([]);
  });

  it('never lets a domain folder import a transport folder', () => {
    expect(
      violations((module, imported) => {
        const from = folderOf(module);
        if (from === '' || TRANSPORT.has(from) || imported.target === undefined) return undefined;
        return TRANSPORT.has(folderOf(imported.target)) ? `${from}/ is a domain folder, ${folderOf(imported.target)}/ is transport` : undefined;
      }),
    ).toEqual([]);
  });

  it('enters tasks/ only through its facade and its submission rules', () => {
    expect(
      violations((module, imported) => {
        if (folderOf(module) === 'tasks' || folderOf(module) === '' || imported.target === undefined) return undefined;
        if (folderOf(imported.target) !== 'tasks' || TASKS_ENTRIES.has(imported.target)) return undefined;
        return 'reach tasks/ through task-service.ts (records are in records/)';
      }),
    ).toEqual([]);
  });

  it('builds wire messages only in grpc/', () => {
    expect(
      violations((module, imported) => {
        if (folderOf(module) === 'grpc' || imported.specifier !== '@wharf/proto') return undefined;
        const wire = imported.names.filter((name) => !PROTO_HELPERS.has(name));
        return wire.length > 0 ? `${wire.join(', ')} belong to grpc/ (translate there)` : undefined;
      }),
    ).toEqual([]);
  });

  it('leaves test helpers (testing/ folders, not built into dist/) to tests', () => {
    expect(
      violations((module, imported) => {
        if (imported.target === undefined || !imported.target.includes('/testing/') || module.includes('/testing/')) return undefined;
        return 'testing/ helpers are for tests only';
      }),
    ).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (module: string): void => {
      state.set(module, 'visiting');
      stack.push(module);
      for (const imported of modules.get(module) ?? []) {
        const target = imported.target;
        if (target === undefined || !modules.has(target)) continue;
        if (state.get(target) === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(module, 'done');
    };
    for (const module of modules.keys()) if (!state.has(module)) visit(module);
    expect(cycles).toEqual([]);
  });
});
