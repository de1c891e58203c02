import { sql } from 'kysely'
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
  it('a type spelling that is not a type name, naming the file, table and column', () => {
    const message = problemsOf(defineSchema(table('calls', { id: c.integer(), n: c.type<number>('int); DROP TABLE calls; --') })))
    expect(message).toMatch(/table calls \(.*schema-definition\.test\.ts:\d+\), column n: "int\); DROP TABLE calls; --" is not a type name/)
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
        table('a', { x: c.type<string>('no pe') }),
        table('b', {}),
        table('c', { id: c.integer().primaryKey(), id2: c.integer().primaryKey() }),
        table('d', { id: c.integer() }, { primaryKey: ['missing' as 'id'] }),
      ),
    )
    expect(message).toContain('column x: "no pe" is not a type name')
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

describe('types the DSL does not know load offline; the target is asked at plan and verify time', () => {
  it('enums, domains, extension types and their arrays keep their spelling until then', () => {
    const model = modelFromDefinition(
      defineSchema(
        table('t', {
          id: c.integer(),
          m: c.type('mood'),
          q: c.type('audit."Level"'),
          g: c.type('geometry(Point,4326)'),
          ms: c.array(c.type('mood')),
          v: c.type('character varying(20)'),
        }),
      ),
    )
    const columns = model.tables[0]?.columns ?? []
    expect(columns.map((column) => [column.name, column.type, column.catalogType])).toEqual([
      ['id', 'integer', false],
      ['m', 'mood', true],
      ['q', 'audit."Level"', true],
      ['g', 'geometry(Point,4326)', true],
      ['ms', 'mood[]', true],
      ['v', 'character varying(20)', false],
    ])
  })
})

describe('defaults are rendered for the column type, or refused when the type cannot hold them', () => {
  const defaultOf = (column: Parameters<typeof table>[1][string]) =>
    modelFromDefinition(defineSchema(table('t', { x: column }))).tables[0]?.columns[0]?.default?.sql

  it.each([
    ['numeric string', c.numeric(12, 2).default('0.0'), '0.0'],
    ['numeric number', c.numeric().default(-1.5), '-1.5'],
    ['numeric NaN', c.numeric().default('NaN'), "'NaN'"],
    ['integer string (JavaScript callers)', c.integer().default(' 5 ' as never), '5'],
    ['bigint bigint', c.bigint().default(9007199254740993n), '9007199254740993'],
    ['bigint string', c.bigint().default('-9999999999'), '-9999999999'],
    ['double precision', c.doublePrecision().default(1e21), '1e+21'],
    ['text array, empty', c.array(c.text()).default([]), "'{}'"],
    ['text array, quoted elements', c.array(c.text()).default(['a b', 'say "hi"', 'back\\slash', "it's", 'NULL', '']), `'{"a b","say \\"hi\\"","back\\\\slash",it''s,"NULL",""}'`],
    ['text array with a NULL element', c.array(c.text()).default(['a', null as never]), `'{a,NULL}'`],
    ['integer array, nested', c.array(c.array(c.integer())).default([[1, 2], [3, 4]]), "'{{1,2},{3,4}}'"],
    ['jsonb value', c.jsonb().default({ b: 1, a: [true, null] }), `'{"b":1,"a":[true,null]}'`],
    ['jsonb text', c.jsonb().default('"queued"'), `'"queued"'`],
    ['json array', c.json().default([1, 'x']), `'[1,"x"]'`],
    ['date', c.date().default(new Date('2024-02-29T00:00:00Z')), "'2024-02-29'"],
    ['timestamptz', c.timestamptz().default(new Date('2024-02-29T10:11:12.345Z')), "'2024-02-29T10:11:12.345Z'"],
    ['timestamp', c.timestamp().default(new Date('2024-02-29T10:11:12.345Z')), "'2024-02-29 10:11:12.345'"],
    ['bytea', c.bytea().default(Buffer.from([1, 0xab])), "'\\x01ab'"],
    ['boolean', c.boolean().default(false), 'false'],
    ['enum through c.type', c.type('mood').default('ok'), "'ok'"],
  ])('%s', (_, column, rendered) => {
    expect(defaultOf(column)).toBe(rendered)
  })

  it('refuses what the column cannot hold, every problem at once', () => {
    const message = problemsOf(
      defineSchema(
        table('t', {
          a: c.integer().default(1.5),
          b: c.smallint().default(40000),
          cc: c.numeric(3, 2).default(100),
          d: c.numeric().default('abc'),
          e: c.jsonb().default('not json'),
          f: c.varchar(3).default('toolong'),
          g: c.boolean().default('yes' as never),
          h: c.array(c.integer()).default(['x'] as never),
          i: c.text().default({} as never),
          j: c.integer().default(Number.POSITIVE_INFINITY),
          k: c.array(c.text()).default('{}' as never),
        }),
      ),
    )
    expect(message).toContain('column a: default 1.5 is not a whole number; an integer column stores whole numbers')
    expect(message).toContain('column b: default 40000 is outside the range of smallint')
    expect(message).toContain('column cc: default 100 does not fit numeric(3,2) (at most 1 digit before the point)')
    expect(message).toContain('column d: default "abc" is not a number')
    expect(message).toContain('column e: default "not json" is not JSON text')
    expect(message).toContain('column f: default "toolong" is longer than character varying(3) allows')
    expect(message).toContain('column g: default "yes" is not a boolean')
    expect(message).toContain('column h: default element "x" is not a number')
    expect(message).toContain('column i: default {} is not a value for a text column')
    expect(message).toContain('column j: default Infinity is not a whole number')
    expect(message).toContain('column k: default "{}" is not an array; declare an array default as a JavaScript array')
  })
})

describe('generated columns and partitioned tables', () => {
  it('a generated column is modelled with its expression, and a sql`` expression is compiled with its names quoted', () => {
    const model = modelFromDefinition(
      defineSchema(
        table('t', {
          'a b': c.integer(),
          g: c.integer().generatedAlwaysAs(sql`${sql.ref('a b')} * 2`),
          h: c.text().notNull().generatedAlwaysAs("lower('X')"),
        }),
      ),
    )
    const [, g, h] = model.tables[0]?.columns ?? []
    expect(g?.generated).toMatchObject({ kind: 'stored', sql: '"a b" * 2' })
    expect(g?.default).toBeNull()
    expect(h?.generated).toMatchObject({ kind: 'stored', sql: "lower('X')" })
    expect(h?.nullable).toBe(false)
  })

  it('a generated column with a default, with identity, or with a bound value is refused', () => {
    const message = problemsOf(
      defineSchema(
        table('t', {
          a: c.integer(),
          b: c.integer().default(1).generatedAlwaysAs('a + 1'),
          d: c.integer().generatedAlwaysAs('a + 1').generatedAlwaysAsIdentity(),
          e: c.integer().generatedAlwaysAs(sql`a + ${1}`),
          f: c.integer().generatedAlwaysAs(''),
        }),
      ),
    )
    expect(message).toContain('column b: a generated column cannot also have a default')
    expect(message).toContain('column d: a generated column cannot also be an identity column')
    expect(message).toContain('column e: the generation expression binds a value')
    expect(message).toContain('column f: the generation expression is empty')
  })

  it('an expression written into DDL must be one expression: no second clause, statement or comment', () => {
    const message = problemsOf(
      defineSchema(
        table(
          't',
          {
            a: c.integer().defaultSql("1, evil text DEFAULT 'x'"),
            b: c.integer().generatedAlwaysAs('1) STORED, evil int GENERATED ALWAYS AS (1'),
            d: c.text().defaultSql("'x' -- note"),
            e: c.text().defaultSql("'unclosed"),
            f: c.text().defaultSql("'nul \0 here'"),
            ok: c.array(c.integer()).defaultSql("ARRAY[1, 2]::integer[]"),
          },
          { partitionBy: 'RANGE (a); DROP TABLE t; SELECT (1)' },
        ),
      ),
    )
    expect(message).toContain(`column a: .defaultSql("1, evil text DEFAULT 'x'") is not one SQL expression`)
    expect(message).toContain('column b: the generation expression "1) STORED, evil int GENERATED ALWAYS AS (1" is not one SQL expression')
    expect(message).toContain(`column d: .defaultSql("'x' -- note") is not one SQL expression`)
    expect(message).toContain(`column e: .defaultSql("'unclosed") is not one SQL expression`)
    expect(message).toContain(`column f: .defaultSql("'nul \\u0000 here'") contains a NUL character`)
    expect(message).not.toContain('column ok')
    expect(message).toContain('partitionBy "RANGE (a); DROP TABLE t; SELECT (1)" is not RANGE (...), LIST (...) or HASH (...)')
  })

  it('partitionBy takes RANGE, LIST or HASH with columns', () => {
    const model = modelFromDefinition(defineSchema(table('e', { at: c.date() }, { partitionBy: 'range (at)' })))
    expect(model.tables[0]?.partitionBy?.sql).toBe('range (at)')
    const message = problemsOf(defineSchema(table('e', { at: c.date() }, { partitionBy: 'by month' })))
    expect(message).toContain('partitionBy "by month" is not RANGE (...), LIST (...) or HASH (...)')
  })
})
