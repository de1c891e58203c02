import { describe, expect, it } from 'vitest'
import { normalizeDefault, SEQUENCE_DEFAULT } from '../src/model/normalize-default.js'

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
  })

  it("maps any serial sequence to one marker: the sequence's name is PostgreSQL's choice", () => {
    expect(normalizeDefault("nextval('call_log_id_seq'::regclass)", 'bigint')).toBe(SEQUENCE_DEFAULT)
    expect(normalizeDefault(`nextval('"Odd ""Name""_id_seq"'::regclass)`, 'integer')).toBe(SEQUENCE_DEFAULT)
  })
})
