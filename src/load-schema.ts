import { access } from 'node:fs/promises'
import path from 'node:path'
import type { SchemaDefinition } from './dsl/table.js'
import { MigratorError } from './errors.js'
import { importModule } from './load-module.js'
import { modelFromDefinition } from './model/from-definition.js'
import type { SchemaModel } from './model/model.js'

/**
 * Loads the declared schema: imports the module that exports `schema` and
 * builds the checked, normalized model. Runs before any connection, so a bad
 * schema never reaches a database.
 *
 * The module is TypeScript (compiled on import, see `importModule`) or, in
 * the migrate image, compiled JavaScript.
 */
export async function loadSchema(schemaPath: string): Promise<SchemaModel> {
  return modelFromDefinition(await importSchema(schemaPath))
}

/**
 * The first half of {@link loadSchema}: the module imported and its `schema`
 * export found, not yet checked or modelled. What a command may start from
 * while the model is built: the namespaces it names (`namespacesOf`).
 */
export async function importSchema(schemaPath: string): Promise<SchemaDefinition> {
  const shown = path.relative(process.cwd(), schemaPath) || schemaPath
  try {
    await access(schemaPath)
  } catch {
    throw new MigratorError('schema', `schema module ${shown} does not exist`, {
      hint: 'create it, exporting `schema = defineSchema(...)`, or point to yours: schema in schema.config.ts, or --schema <path>',
    })
  }

  let module: { schema?: unknown }
  try {
    module = await importModule(schemaPath)
  } catch (error) {
    throw new MigratorError('schema', `schema module ${shown} failed to load: ${firstLine(error)}`, {
      hint: 'fix the error in the schema module; `npx tsc --noEmit` shows type errors with their lines',
      cause: error,
    })
  }

  if (!isSchemaDefinition(module.schema)) {
    throw new MigratorError('schema', `schema module ${shown} does not export \`schema\``, {
      hint: 'export const schema = defineSchema(table1, table2, ...)',
    })
  }
  return module.schema
}

function isSchemaDefinition(value: unknown): value is SchemaDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'schema-definition' &&
    Array.isArray((value as { tables?: unknown }).tables)
  )
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return text.split('\n')[0] ?? text
}
