import type { IndexChange } from '../diff/indexes.js'
import type { IndexModel } from '../model/index-model.js'
import { clipBytes, MAX_NAME_BYTES } from '../model/index-names.js'
import { type Hazard, HAZARDS } from './hazards.js'
import type { Draft } from './plan.js'
import type { TableName } from './render-sql.js'
import * as render from './render-index-sql.js'

/**
 * The steps of an index or unique constraint change.
 *
 * On a table in use, nothing blocks writes for the length of a build:
 * - a new index is `CREATE INDEX CONCURRENTLY` (outside any transaction);
 * - a unique constraint is a concurrently built unique index, then
 *   `ADD CONSTRAINT ... UNIQUE USING INDEX` (a catalog change, ACCESS
 *   EXCLUSIVE for milliseconds);
 * - a changed index is built concurrently under a temporary name, swapped in
 *   by renaming (in one transaction, so the name always points at a valid
 *   index), and the old one dropped concurrently;
 * - an index left invalid by a failed build is dropped concurrently and built again.
 * On a table the same plan creates, plain statements inside the migration's
 * transaction: nobody can be using the table yet.
 */
export function indexDrafts(change: IndexChange, subject: string): Draft[] {
  const table = change.table
  switch (change.kind) {
    case 'create-index':
      return change.newTable ? createInTransaction(table, change.index) : createConcurrently(table, change.index, change.index.name)
    case 'replace-index':
      return change.reason === 'invalid' ? [dropDraft(table, change.from, []), ...createConcurrently(table, change.to, change.to.name)] : replace(table, change.from, change.to)
    case 'drop-index': {
      // An invalid index serves no query; dropping it loses nothing.
      const hazards: Hazard[] = change.index.valid ? [{ code: 'drop-index', message: `${subject}: ${HAZARDS['drop-index']}` }] : []
      return [dropDraft(table, change.index, hazards)]
    }
  }
}

/** The name an index is built under before it is swapped in, and the name the old one steps aside to. */
export function temporaryIndexName(name: string, role: 'new' | 'old'): string {
  const suffix = `_ksm_${role}`
  return `${clipBytes(name, MAX_NAME_BYTES - suffix.length)}${suffix}`
}

function createInTransaction(table: TableName, index: IndexModel): Draft[] {
  const drafts: Draft[] = [{ sql: render.createIndexSql(table, buildOf(index, index.name), 'in-transaction'), lock: 'none', hazards: [] }]
  if (index.constraint) drafts.push({ sql: render.addUniqueUsingIndexSql(table, index.name, index.name), lock: 'none', hazards: [] })
  return drafts
}

/** Builds `index` concurrently under `buildName`; a constraint is attached only when built under its own name. */
function createConcurrently(table: TableName, index: IndexModel, buildName: string): Draft[] {
  const drafts: Draft[] = [
    { sql: render.createIndexSql(table, buildOf(index, buildName), 'concurrently'), lock: 'SHARE UPDATE EXCLUSIVE', hazards: [], transaction: false },
  ]
  if (index.constraint && buildName === index.name) {
    drafts.push({ sql: render.addUniqueUsingIndexSql(table, index.name, index.name), lock: 'ACCESS EXCLUSIVE', hazards: [] })
  }
  return drafts
}

function replace(table: TableName, from: IndexModel, to: IndexModel): Draft[] {
  // A unique index already as declared becomes the constraint without a rebuild.
  if (to.constraint && !from.constraint && from.unique && from.canonical !== null && from.canonical === to.canonical) {
    return [{ sql: render.addUniqueUsingIndexSql(table, to.name, to.name), lock: 'ACCESS EXCLUSIVE', hazards: [] }]
  }
  const fresh = temporaryIndexName(to.name, 'new')
  const old = temporaryIndexName(from.name, 'old')
  const build = createConcurrently(table, to, fresh)
  const rename = (a: string, b: string): Draft => ({ sql: render.renameIndexSql(table.schema, a, b), lock: 'SHARE UPDATE EXCLUSIVE', hazards: [] })
  const dropOld: Draft = { sql: render.dropIndexConcurrentlySql(table.schema, old), lock: 'SHARE UPDATE EXCLUSIVE', hazards: [], transaction: false }
  if (to.constraint && from.constraint) {
    return [...build, { sql: render.swapUniqueUsingIndexSql(table, to.name, fresh), lock: 'ACCESS EXCLUSIVE', hazards: [] }]
  }
  if (to.constraint) {
    return [...build, rename(from.name, old), { sql: render.addUniqueUsingIndexSql(table, to.name, fresh), lock: 'ACCESS EXCLUSIVE', hazards: [] }, dropOld]
  }
  if (from.constraint) {
    return [...build, { sql: render.dropConstraintSql(table, from.name), lock: 'ACCESS EXCLUSIVE', hazards: [] }, rename(fresh, to.name)]
  }
  return [...build, rename(from.name, old), rename(fresh, to.name), dropOld]
}

function dropDraft(table: TableName, index: IndexModel, hazards: Hazard[]): Draft {
  return index.constraint
    ? { sql: render.dropConstraintSql(table, index.name), lock: 'ACCESS EXCLUSIVE', hazards }
    : { sql: render.dropIndexConcurrentlySql(table.schema, index.name), lock: 'SHARE UPDATE EXCLUSIVE', hazards, transaction: false }
}

function buildOf(index: IndexModel, name: string): render.IndexToBuild {
  if (index.definition === null) throw new Error(`index ${index.name} has no declared definition to build`)
  return { name, unique: index.unique, definition: index.definition }
}
