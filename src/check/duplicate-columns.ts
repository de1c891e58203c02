import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import type * as TypeScript from 'typescript'

/**
 * Columns declared twice in one `table(...)` call.
 *
 * JavaScript keeps only the last of two equal keys in an object literal, so
 * the loaded schema cannot show the duplicate; only the source can.
 * TypeScript reports it too (TS1117) when type-checked; this finds it without
 * a type check, for `schema:check`. It parses the schema module and the
 * modules it imports by relative path, each file on its own: no project, no
 * type information, nothing from node_modules (which a ts-morph project would
 * parse too, for about a second).
 */

export interface DuplicateColumn {
  /** `schema/call-log.ts:14` */
  readonly at: string
  readonly table: string
  readonly column: string
}

export async function findDuplicateColumns(schemaPath: string): Promise<DuplicateColumn[]> {
  const ts = await typescript()
  const found: DuplicateColumn[] = []
  const seenFiles = new Set<string>()
  const pending = [path.resolve(schemaPath)]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seenFiles.has(file)) continue
    seenFiles.add(file)
    const source = ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.Latest, false, scriptKind(ts, file))
    const visit = (node: TypeScript.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'table') {
        found.push(...duplicatesIn(ts, source, node))
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
    for (const imported of relativeImports(ts, source)) {
      const resolved = resolveModule(path.dirname(file), imported)
      if (resolved !== null) pending.push(resolved)
    }
  }
  return found
}

function duplicatesIn(ts: typeof TypeScript, source: TypeScript.SourceFile, call: TypeScript.CallExpression): DuplicateColumn[] {
  const [nameArg, columnsArg] = call.arguments
  if (!columnsArg || !ts.isObjectLiteralExpression(columnsArg)) return []
  const table = nameArg && ts.isStringLiteralLike(nameArg) ? nameArg.text : (nameArg?.getText(source) ?? '?')
  const seen = new Set<string>()
  const found: DuplicateColumn[] = []
  for (const property of columnsArg.properties) {
    if (!ts.isPropertyAssignment(property) && !ts.isShorthandPropertyAssignment(property)) continue
    const name = property.name
    const column = ts.isStringLiteralLike(name) || ts.isIdentifier(name) || ts.isNumericLiteral(name) ? name.text : name.getText(source)
    if (seen.has(column)) {
      const line = source.getLineAndCharacterOfPosition(property.getStart(source)).line + 1
      found.push({ at: `${path.relative(process.cwd(), source.fileName)}:${line}`, table, column })
    }
    seen.add(column)
  }
  return found
}

function relativeImports(ts: typeof TypeScript, source: TypeScript.SourceFile): string[] {
  const specifiers: string[] = []
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      const specifier = statement.moduleSpecifier.text
      if (specifier.startsWith('.')) specifiers.push(specifier)
    }
  }
  return specifiers
}

/** `./call-log.js` written in TypeScript is `./call-log.ts` on disk; a file outside node_modules, or nothing. */
function resolveModule(dir: string, specifier: string): string | null {
  const base = path.resolve(dir, specifier)
  const stem = base.replace(/\.(c|m)?js$/, '')
  const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, `${stem}.tsx`, `${base}.ts`, `${base}.js`, `${base}.mjs`, path.join(base, 'index.ts'), path.join(base, 'index.js')]
  const found = candidates.find((candidate) => /\.(c|m)?[jt]sx?$/.test(candidate) && existsSync(candidate))
  return found === undefined || found.includes(`${path.sep}node_modules${path.sep}`) ? null : found
}

function scriptKind(ts: typeof TypeScript, file: string): TypeScript.ScriptKind {
  return /\.(c|m)?js$/.test(file) ? ts.ScriptKind.JS : /\.tsx$/.test(file) ? ts.ScriptKind.TSX : ts.ScriptKind.TS
}

/**
 * The TypeScript compiler: the application's own if it has one, else the copy
 * ts-morph (an optional dependency) carries. With neither, the error names
 * ts-morph, which the CLI then reports with how to install it.
 */
/**
 * TypeScript's compiler, through `require`: it is one 9 MB CommonJS file, and
 * `import()` would first scan all of it twice (for ES module syntax, then for
 * its export names), about a quarter of a second before compiling it.
 */
async function typescript(): Promise<typeof TypeScript> {
  const require = createRequire(import.meta.url)
  try {
    return require('typescript') as typeof TypeScript
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error
    return (await import('ts-morph')).ts as unknown as typeof TypeScript
  }
}
