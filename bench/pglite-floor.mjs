// The embedded floor: a bare process that opens PGlite on PGLITE_DIR (an existing data folder, or a
// new one, which PGlite then initialises) and runs one catalog query. No migrator can start cheaper.
import { PGlite } from '@electric-sql/pglite'

const db = await PGlite.create(process.env.PGLITE_DIR)
const { rows } = await db.query(`
  SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
         pg_get_expr(d.adbin, d.adrelid)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'`)
await db.close()
process.stdout.write(`${rows.length} columns\n`)
