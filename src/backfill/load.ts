import path from 'node:path'
import type { SchemaDefinition } from '../dsl/table.js'
import { MigratorError } from '../errors.js'
import { importModule } from '../load-module.js'
import { type BackfillModel, backfillModels } from './definition.js'

/**
 * The backfills the schema module declares (its `backfills` export), checked
 * against its `schema`. Call it once `loadSchema` has loaded the module, which
 * reports every problem with the module itself; this import then returns the
 * module from the loader's cache. A module without `backfills` declares none.
 */
export async function loadBackfills(schemaPath: string): Promise<BackfillModel[]> {
  // The module loadSchema imported: the loader's module cache returns it as it is.
  const module = (await importModule(schemaPath)) as { schema: SchemaDefinition; backfills?: unknown }
  try {
    return backfillModels(module.backfills, module.schema)
  } catch (error) {
    if (!(error instanceof MigratorError)) throw error
    const shown = path.relative(process.cwd(), schemaPath) || schemaPath
    throw new MigratorError(error.stage, `${shown}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), cause: error })
  }
}
