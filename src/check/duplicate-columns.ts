import path from 'node:path'
import { Node, Project } from 'ts-morph'

/**
 * Columns declared twice in one `table(...)` call.
 *
 * JavaScript keeps only the last of two equal keys in an object literal, so
 * the loaded schema cannot show the duplicate; only the source can.
 * TypeScript reports it too (TS1117) when type-checked; this finds it without
 * a type check, for `schema:check`. It parses the schema module and the
 * modules it imports (ts-morph, a development dependency: CI has it, the
 * production image does not need it).
 */

export interface DuplicateColumn {
  /** `schema/call-log.ts:14` */
  readonly at: string
  readonly table: string
  readonly column: string
}

export function findDuplicateColumns(schemaPath: string): DuplicateColumn[] {
  const project = new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: { allowJs: true } })
  project.addSourceFileAtPath(schemaPath)
  project.resolveSourceFileDependencies()
  const found: DuplicateColumn[] = []
  for (const file of project.getSourceFiles()) {
    if (file.getFilePath().includes('/node_modules/')) continue
    file.forEachDescendant((node) => {
      if (!Node.isCallExpression(node) || node.getExpression().getText() !== 'table') return
      const [nameArg, columnsArg] = node.getArguments()
      if (!Node.isObjectLiteralExpression(columnsArg)) return
      const table = Node.isStringLiteral(nameArg) ? nameArg.getLiteralValue() : (nameArg?.getText() ?? '?')
      const seen = new Set<string>()
      for (const property of columnsArg.getProperties()) {
        if (!Node.isPropertyAssignment(property) && !Node.isShorthandPropertyAssignment(property)) continue
        const nameNode = property.getNameNode()
        const column = Node.isStringLiteral(nameNode) ? nameNode.getLiteralValue() : nameNode.getText()
        if (seen.has(column)) {
          found.push({
            at: `${path.relative(process.cwd(), file.getFilePath())}:${property.getStartLineNumber()}`,
            table,
            column,
          })
        }
        seen.add(column)
      }
    })
  }
  return found
}
