import { describe, expect, it } from 'vitest'
import { normalizeDefault } from '../src/model/normalize-default.js'

/**
 * Unit rules; `test/acceptance/cases.ts` ("equal schemas spelt differently")
 * round-trips the same defaults through real servers.
 */
describe('normalizeDefault', () => {
  it.each([
    // [what PostgreSQL stores, column type, what the schema declares]
    ["'queued'::text", 'text', "'queued'"],
    ["'x'::character varying", 'character varying(20)', "'x'"],
    ["'ab'::bpchar", 'character(3)', "'ab'"],
    ["'it''s'::text", 'text', "'it''s'"],
    ["'-1'::integer", 'integer', '-1'],
    ["'-5'::integer", 'bigint', '-5'],
    ["'-0.5'::numeric", 'double precision', '-0.5'],
    ["'9999999999'::bigint", 'bigint', '9999999999'],
    ["'{}'::jsonb", 'jsonb', "'{}'"],
    [`'{"a": [1, 2.0], "c": {"z": null}, "bb": 1}'::jsonb`, 'jsonb', `'{"bb":1,"a":[1,2.0],"c":{"z":null}}'`],
    [`'{"it''s": 1}'::jsonb`, 'jsonb', `'{"it''s":1}'`],
    ["'{1,2}'::integer[]", 'integer[]', "'{1,2}'"],
    ['CURRENT_TIMESTAMP', 'timestamp with time zone', 'current_timestamp'],
    ['now()', 'timestamp with time zone', 'NOW( )'],
    ["'2020-01-01 00:00:00'::timestamp without time zone", 'timestamp(3) without time zone', "'2020-01-01 00:00:00'"],
    // Numbers by value, whatever the spelling: what a numeric column's string type has users write.
    ['0.0', 'numeric(12,2)', '0'],
    ['0.0', 'numeric(12,2)', "'0.00'"],
    ['0.0', 'numeric', '0'],
    ['0.0', 'double precision', '0'],
    ['0.0', 'real', "'0'"],
    ["'0.25'::double precision", 'double precision', '0.25'],
    ["'100000000000000000000'::numeric", 'double precision', '1e20'],
    ["'-1.5'::real", 'real', "'-1.50'"],
    ['4.99', 'numeric(4,2)', "'4.990'"],
    // PostgreSQL keeps the literal as written and rounds it to the column's scale when it stores a value.
    ['0.005', 'numeric(12,2)', '0.01'],
    ['-2.255', 'numeric(12,2)', '-2.26'],
    ['1.5', 'integer', '2'],
    ['5', 'integer', "'5'"],
    ['(0)::numeric', 'numeric', '0.0'],
    ['1000', 'numeric(12,2)', '1e3'],
    // Arrays as array literals, however they are written or stored.
    ["'{}'::text[]", 'text[]', 'ARRAY[]::text[]'],
    ["'{}'::character varying[]", 'character varying[]', "'{}'"],
    ["ARRAY['x'::text, 'y z'::text]", 'text[]', `'{x,"y z"}'`],
    ['ARRAY[1, 2]', 'integer[]', "'{1,2}'"],
    [`'{"a b",c}'::text[]`, 'text[]', `'{"a b","c"}'`],
    [String.raw`'{"it''s","say \"hi\"","back\\slash",NULL,"NULL"}'::text[]`, 'text[]', String.raw`ARRAY['it''s', 'say "hi"', 'back\slash', NULL, 'NULL']`],
    ["'{0.0,1}'::numeric[]", 'numeric[]', "'{0,1.00}'"],
    ["'{{1,2},{3,4}}'::integer[]", 'integer[]', 'ARRAY[ARRAY[1,2],ARRAY[3,4]]'],
    ["'{sad,happy}'::mood[]", 'mood[]', `'{"sad","happy"}'`],
  ])('%s on %s equals %s', (stored, type, declared) => {
    expect(normalizeDefault(stored, type)).toBe(normalizeDefault(declared, type))
  })

  it('keeps the case and spacing of quoted text', () => {
    expect(normalizeDefault("'Queued  Call'::text", 'text')).toBe("'Queued  Call'")
    expect(normalizeDefault("'Queued  Call'", 'text')).not.toBe(normalizeDefault("'queued call'", 'text'))
  })

  it('compares json text as written: PostgreSQL keeps json (unlike jsonb) verbatim', () => {
    expect(normalizeDefault(`'{"b":1,"a":2}'::json`, 'json')).not.toBe(normalizeDefault(`'{"a":2,"b":1}'`, 'json'))
  })

  it('keeps a cast to another type: it changes meaning', () => {
    expect(normalizeDefault("'1'::text", 'integer')).toBe("'1'::text")
    expect(normalizeDefault("'abc'::text", 'character varying(5)')).toBe("'abc'::text")
  })

  it('treats NULL as no default', () => {
    expect(normalizeDefault('NULL', 'text')).toBeNull()
    expect(normalizeDefault('NULL::text', 'text')).toBeNull()
    expect(normalizeDefault('NULL::timestamp without time zone', 'timestamp without time zone')).toBeNull()
    expect(normalizeDefault('(NULL)::character varying', 'character varying(10)')).toBeNull()
  })

  it('keeps numbers that differ apart, and a number from a string that is not one', () => {
    expect(normalizeDefault('0.0', 'numeric(12,2)')).not.toBe(normalizeDefault('0.01', 'numeric(12,2)'))
    expect(normalizeDefault('0.004', 'numeric')).not.toBe(normalizeDefault('0', 'numeric'))
    expect(normalizeDefault("'0'", 'text')).not.toBe(normalizeDefault("'0.0'", 'text'))
    expect(normalizeDefault("'{1,2}'", 'integer[]')).not.toBe(normalizeDefault("'{2,1}'", 'integer[]'))
    expect(normalizeDefault("'{}'", 'text[]')).not.toBe(normalizeDefault(`'{""}'`, 'text[]'))
  })

  it('names the sequence a nextval default takes its values from, schema-qualified', () => {
    const named = (expression: string) => normalizeDefault(expression, 'bigint')
    expect(named("nextval('b_seq'::regclass)")).toBe(named("nextval('public.b_seq')"))
    expect(named("nextval('b_seq'::regclass)")).toBe(named(`nextval('"b_seq"'::regclass)`))
    expect(named("nextval('a_seq'::regclass)")).not.toBe(named("nextval('b_seq'::regclass)"))
    expect(named("nextval('audit.b_seq'::regclass)")).not.toBe(named("nextval('b_seq'::regclass)"))
    expect(named(`nextval('"Odd ""Name"""'::regclass)`)).toBe(`nextval('public."Odd ""Name"""')`)
  })
})
