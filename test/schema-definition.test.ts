import { describe, expect, it } from 'vitest'
import { c, defineSchema, type SchemaDefinition, table } from '../src/dsl/index.js'
import { MigratorError } from '../src/errors.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { schema } from '../schema/index.js'

function problemsOf(definition: SchemaDefinition): string {
  try {
    modelFromDefinition(definition)
  } catch (error) {
    expect(error).toBeInstanceOf(MigratorError)
    expect((error as MigratorError).stage).toBe('schema')
    return (error as Error).message
  }
  throw new Error('expected the definition to be rejected')
}

describe('the project schema', () => {
  it('models call_log with the 109 and 110 columns', () => {
    const model = modelFromDefinition(schema)
    const callLog = model.tables.find((t) => t.name === 'call_log')
    expect(callLog?.primaryKey).toEqual(['id'])
    expect(callLog?.columns.map((col) => [col.name, col.type, col.nullable, col.default?.canonical ?? null])).toEqual([
      ['id', 'bigint', false, 'nextval(<owned sequence>)'],
      ['call_sid', 'text', false, null],
      ['from_number', 'text', true, null],
      ['to_number', 'text', true, null],
      ['status', 'text', false, "'queued'"],
      ['created_at', 'timestamp with time zone', false, 'now()'],
      ['started_at', 'timestamp with time zone', true, null],
      ['ended_at', 'timestamp with time zone', true, null],
      ['duration_sec', 'integer', true, null],
      ['summary_status', 'text', true, null],
    ])
  })
})

describe('invalid definitions are rejected before any database is touched', () => {
  it('an unknown type, naming the file, table and column', () => {
    const message = problemsOf(defineSchema(table('calls', { id: c.integer(), n: c.type<number>('intgr') })))
    expect(message).toMatch(/table calls \(.*schema-definition\.test\.ts:\d+\), column n: unknown type "intgr"/)
  })

  it('a duplicate table, naming both places', () => {
    const message = problemsOf(defineSchema(table('calls', { id: c.integer() }), table('calls', { id: c.integer() })))
    expect(message).toMatch(/duplicate table calls: declared at .*:\d+\) and at .*:\d+\)/)
  })

  it('a name over 63 bytes, which PostgreSQL would silently truncate', () => {
    const long = 'é'.repeat(32) // 64 bytes in UTF-8
    const message = problemsOf(defineSchema(table('calls', { id: c.integer(), [long]: c.text() })))
    expect(message).toContain(`"${long}" is 64 bytes`)
  })

  it('every problem at once', () => {
    const message = problemsOf(
      defineSchema(
        table('a', { x: c.type<string>('nope') }),
        table('b', {}),
        table('c', { id: c.integer().primaryKey(), id2: c.integer().primaryKey() }),
        table('d', { id: c.integer() }, { primaryKey: ['missing' as 'id'] }),
      ),
    )
    expect(message).toContain('column x: unknown type "nope"')
    expect(message).toContain('table b')
    expect(message).toContain('a table needs at least one column')
    expect(message).toContain('several columns are marked primaryKey()')
    expect(message).toContain('primary key column missing is not declared')
  })

  it('a serial with a default, an identity with a default', () => {
    const message = problemsOf(
      defineSchema(table('t', { a: c.serial().defaultSql('1'), b: c.integer().defaultSql('1').generatedAlwaysAsIdentity() })),
    )
    expect(message).toContain('column a: a serial column gets its default from its sequence')
    expect(message).toContain('column b: an identity column cannot also have a default')
  })

  it('something that is not a table (a circular import)', () => {
    const message = problemsOf(defineSchema(undefined as never))
    expect(message).toContain('defineSchema argument 1 is not a table')
  })
})
