import { sql } from 'kysely'
import { c, defineSchema, type SchemaDefinition, table } from '../../src/dsl/index.js'
import type { AcceptanceCase } from './cases.js'

/**
 * Real-world-shaped schemas as data: each is the structure dump of a kind of
 * application found in the wild (a film-rental sample database, a mapping
 * site, a billing platform), trimmed to the tables that carry what real dumps
 * do: numeric defaults written `0.0`, arrays, enums, domains, `tsvector`,
 * extension types, shared and owned sequences, generated columns, a
 * partitioned table.
 *
 * The runner (`test/real-world.test.ts`) checks each on every target:
 * verify on the original (no difference), plan and apply on an empty
 * database holding only the prerequisites, re-plan (nothing), and an
 * independent catalog diff of the two databases.
 */
export interface RealWorldCase {
  readonly name: string
  /** What `schema/` cannot declare yet and both databases need first: extensions, enums, domains, sequences. */
  readonly prerequisites: string
  /** The tables as the application's own migrations or `pg_dump` created them. */
  readonly dump: string
  /** The same tables declared in the DSL. */
  readonly schema: SchemaDefinition
}

/** A film-rental sample database: enum and domain columns, `tsvector`, arrays, shared sequences, a partitioned table. */
const filmRental: RealWorldCase = {
  name: 'a film-rental sample database',
  prerequisites: `
    CREATE TYPE public.mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
    CREATE DOMAIN public.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
    CREATE SEQUENCE public.film_film_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
    CREATE SEQUENCE public.customer_customer_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
    CREATE SEQUENCE public.payment_payment_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;`,
  dump: `
    CREATE TABLE public.film (
        film_id integer DEFAULT nextval('public.film_film_id_seq'::regclass) NOT NULL,
        title text NOT NULL,
        description text,
        release_year public.year,
        language_id integer NOT NULL,
        rental_duration smallint DEFAULT 3 NOT NULL,
        rental_rate numeric(4,2) DEFAULT 4.99 NOT NULL,
        length smallint,
        replacement_cost numeric(5,2) DEFAULT 19.99 NOT NULL,
        rating public.mpaa_rating DEFAULT 'G'::public.mpaa_rating,
        last_update timestamp with time zone DEFAULT now() NOT NULL,
        special_features text[],
        fulltext tsvector NOT NULL
    );
    ALTER TABLE ONLY public.film ADD CONSTRAINT film_pkey PRIMARY KEY (film_id);
    CREATE TABLE public.customer (
        customer_id integer DEFAULT nextval('public.customer_customer_id_seq'::regclass) NOT NULL,
        store_id integer NOT NULL,
        first_name text NOT NULL,
        last_name text NOT NULL,
        email text,
        address_id integer NOT NULL,
        activebool boolean DEFAULT true NOT NULL,
        create_date date DEFAULT CURRENT_DATE NOT NULL,
        last_update timestamp with time zone DEFAULT now(),
        active integer
    );
    ALTER TABLE ONLY public.customer ADD CONSTRAINT customer_pkey PRIMARY KEY (customer_id);
    CREATE TABLE public.payment (
        payment_id integer DEFAULT nextval('public.payment_payment_id_seq'::regclass) NOT NULL,
        customer_id integer NOT NULL,
        staff_id integer NOT NULL,
        rental_id integer NOT NULL,
        amount numeric(5,2) NOT NULL,
        payment_date timestamp with time zone NOT NULL
    ) PARTITION BY RANGE (payment_date);
    ALTER TABLE ONLY public.payment ADD CONSTRAINT payment_pkey PRIMARY KEY (payment_date, payment_id);
    CREATE TABLE public.payment_p2022_01 PARTITION OF public.payment
        FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00');`,
  schema: defineSchema(
    table('film', {
      film_id: c.integer().primaryKey().defaultSql("nextval('public.film_film_id_seq'::regclass)"),
      title: c.text().notNull(),
      description: c.text(),
      release_year: c.type<number>('year'),
      language_id: c.integer().notNull(),
      rental_duration: c.smallint().notNull().default(3),
      rental_rate: c.numeric(4, 2).notNull().default('4.99'),
      length: c.smallint(),
      replacement_cost: c.numeric(5, 2).notNull().default(19.99),
      rating: c.type<'G' | 'PG' | 'PG-13' | 'R' | 'NC-17'>('mpaa_rating').default('G'),
      last_update: c.timestamptz().notNull().defaultSql('now()'),
      special_features: c.array(c.text()),
      fulltext: c.type('tsvector').notNull(),
    }),
    table('customer', {
      customer_id: c.integer().primaryKey().defaultSql("nextval('customer_customer_id_seq')"),
      store_id: c.integer().notNull(),
      first_name: c.text().notNull(),
      last_name: c.text().notNull(),
      email: c.text(),
      address_id: c.integer().notNull(),
      activebool: c.boolean().notNull().default(true),
      create_date: c.date().notNull().defaultSql('CURRENT_DATE'),
      last_update: c.timestamptz().defaultSql('now()'),
      active: c.integer(),
    }),
    table(
      'payment',
      {
        payment_id: c.integer().notNull().defaultSql("nextval('public.payment_payment_id_seq'::regclass)"),
        customer_id: c.integer().notNull(),
        staff_id: c.integer().notNull(),
        rental_id: c.integer().notNull(),
        amount: c.numeric(5, 2).notNull(),
        payment_date: c.timestamptz().notNull(),
      },
      { primaryKey: ['payment_date', 'payment_id'], partitionBy: 'RANGE (payment_date)' },
    ),
  ),
}

/** A mapping site: enums everywhere, serial keys made of a sequence owned by the column, `''::character varying` defaults. */
const mappingSite: RealWorldCase = {
  name: 'a mapping site',
  prerequisites: `
    CREATE TYPE public.user_status_enum AS ENUM ('pending', 'active', 'confirmed', 'suspended', 'deleted');
    CREATE TYPE public.format_enum AS ENUM ('html', 'markdown', 'text');
    CREATE TYPE public.gpx_visibility_enum AS ENUM ('private', 'public', 'trackable', 'identifiable');
    CREATE TYPE public.note_status_enum AS ENUM ('open', 'closed', 'hidden');`,
  dump: `
    CREATE TABLE public.users (
        email character varying NOT NULL,
        id bigint NOT NULL,
        pass_crypt character varying NOT NULL,
        creation_time timestamp without time zone NOT NULL,
        display_name character varying DEFAULT ''::character varying NOT NULL,
        data_public boolean DEFAULT false NOT NULL,
        description text DEFAULT ''::text NOT NULL,
        home_lat double precision,
        home_lon double precision,
        home_zoom smallint DEFAULT 3,
        pass_salt character varying,
        email_valid boolean DEFAULT false NOT NULL,
        new_email character varying,
        creation_ip character varying,
        languages character varying,
        status public.user_status_enum DEFAULT 'pending'::public.user_status_enum NOT NULL,
        terms_agreed timestamp without time zone,
        consider_pd boolean DEFAULT false NOT NULL,
        preferred_editor character varying,
        terms_seen boolean DEFAULT false NOT NULL,
        description_format public.format_enum DEFAULT 'markdown'::public.format_enum NOT NULL,
        changesets_count integer DEFAULT 0 NOT NULL,
        traces_count integer DEFAULT 0 NOT NULL,
        home_tile bigint,
        tou_agreed timestamp without time zone
    );
    CREATE SEQUENCE public.users_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
    ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;
    ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);
    ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
    CREATE TABLE public.gpx_files (
        id bigint NOT NULL,
        user_id bigint NOT NULL,
        visible boolean DEFAULT true NOT NULL,
        name character varying DEFAULT ''::character varying NOT NULL,
        size bigint,
        latitude double precision,
        longitude double precision,
        "timestamp" timestamp without time zone NOT NULL,
        description character varying DEFAULT ''::character varying NOT NULL,
        inserted boolean NOT NULL,
        visibility public.gpx_visibility_enum DEFAULT 'public'::public.gpx_visibility_enum NOT NULL,
        tile bigint
    );
    CREATE SEQUENCE public.gpx_files_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
    ALTER SEQUENCE public.gpx_files_id_seq OWNED BY public.gpx_files.id;
    ALTER TABLE ONLY public.gpx_files ALTER COLUMN id SET DEFAULT nextval('public.gpx_files_id_seq'::regclass);
    ALTER TABLE ONLY public.gpx_files ADD CONSTRAINT gpx_files_pkey PRIMARY KEY (id);
    CREATE TABLE public.notes (
        id bigint NOT NULL,
        latitude integer NOT NULL,
        longitude integer NOT NULL,
        tile bigint NOT NULL,
        updated_at timestamp without time zone NOT NULL,
        created_at timestamp without time zone NOT NULL,
        status public.note_status_enum NOT NULL,
        closed_at timestamp without time zone,
        description text DEFAULT ''::text NOT NULL,
        user_id bigint,
        user_ip inet,
        tags public.note_status_enum[] DEFAULT '{open}'::public.note_status_enum[] NOT NULL
    );
    CREATE SEQUENCE public.notes_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
    ALTER SEQUENCE public.notes_id_seq OWNED BY public.notes.id;
    ALTER TABLE ONLY public.notes ALTER COLUMN id SET DEFAULT nextval('public.notes_id_seq'::regclass);
    ALTER TABLE ONLY public.notes ADD CONSTRAINT notes_pkey PRIMARY KEY (id);`,
  schema: defineSchema(
    table('users', {
      email: c.varchar().notNull(),
      id: c.bigserial().primaryKey(),
      pass_crypt: c.varchar().notNull(),
      creation_time: c.timestamp().notNull(),
      display_name: c.varchar().notNull().default(''),
      data_public: c.boolean().notNull().default(false),
      description: c.text().notNull().default(''),
      home_lat: c.doublePrecision(),
      home_lon: c.doublePrecision(),
      home_zoom: c.smallint().default(3),
      pass_salt: c.varchar(),
      email_valid: c.boolean().notNull().default(false),
      new_email: c.varchar(),
      creation_ip: c.varchar(),
      languages: c.varchar(),
      status: c.type<'pending' | 'active' | 'confirmed' | 'suspended' | 'deleted'>('user_status_enum').notNull().default('pending'),
      terms_agreed: c.timestamp(),
      consider_pd: c.boolean().notNull().default(false),
      preferred_editor: c.varchar(),
      terms_seen: c.boolean().notNull().default(false),
      description_format: c.type('format_enum').notNull().default('markdown'),
      changesets_count: c.integer().notNull().default(0),
      traces_count: c.integer().notNull().default(0),
      home_tile: c.bigint(),
      tou_agreed: c.timestamp(),
    }),
    table('gpx_files', {
      id: c.bigserial().primaryKey(),
      user_id: c.bigint().notNull(),
      visible: c.boolean().notNull().default(true),
      name: c.varchar().notNull().default(''),
      size: c.bigint(),
      latitude: c.doublePrecision(),
      longitude: c.doublePrecision(),
      timestamp: c.timestamp().notNull(),
      description: c.varchar().notNull().default(''),
      inserted: c.boolean().notNull(),
      visibility: c.type('gpx_visibility_enum').notNull().default('public'),
      tile: c.bigint(),
    }),
    table('notes', {
      id: c.bigserial().primaryKey(),
      latitude: c.integer().notNull(),
      longitude: c.integer().notNull(),
      tile: c.bigint().notNull(),
      updated_at: c.timestamp().notNull(),
      created_at: c.timestamp().notNull(),
      status: c.type('note_status_enum').notNull(),
      closed_at: c.timestamp(),
      description: c.text().notNull().default(''),
      user_id: c.bigint(),
      user_ip: c.inet(),
      tags: c.array(c.type('note_status_enum')).notNull().default(['open']),
    }),
  ),
}

/**
 * A billing platform: money as `numeric(p,s) DEFAULT 0.0` and `double precision DEFAULT 0.0`,
 * jsonb and array defaults, `citext`, a shared invoice-number sequence, a generated total.
 */
const billing: RealWorldCase = {
  name: 'a billing platform',
  prerequisites: `
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE SEQUENCE public.invoice_numbers START WITH 1000;`,
  dump: `
    CREATE TABLE public.customers (
        id uuid DEFAULT gen_random_uuid() NOT NULL,
        external_id character varying NOT NULL,
        email public.citext,
        name character varying,
        vat_rate double precision,
        invoice_grace_period integer,
        email_settings character varying[] DEFAULT '{}'::character varying[],
        payment_provider_codes text[] DEFAULT ARRAY[]::text[] NOT NULL,
        created_at timestamp(6) without time zone NOT NULL,
        updated_at timestamp(6) without time zone NOT NULL
    );
    ALTER TABLE ONLY public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
    CREATE TABLE public.invoices (
        id uuid DEFAULT gen_random_uuid() NOT NULL,
        customer_id uuid,
        number character varying DEFAULT ''::character varying NOT NULL,
        sequential_id bigint DEFAULT nextval('public.invoice_numbers'::regclass) NOT NULL,
        issuing_date date,
        amount_cents bigint DEFAULT 0 NOT NULL,
        taxes_amount_cents bigint DEFAULT 0 NOT NULL,
        total_amount_cents bigint GENERATED ALWAYS AS ((amount_cents + taxes_amount_cents)) STORED,
        taxes_rate double precision DEFAULT 0.0 NOT NULL,
        status integer DEFAULT 1 NOT NULL,
        version_number integer DEFAULT 4 NOT NULL,
        metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
        ready_for_payment_processing boolean DEFAULT true NOT NULL,
        created_at timestamp(6) without time zone NOT NULL
    );
    ALTER TABLE ONLY public.invoices ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);
    CREATE TABLE public.fees (
        id uuid DEFAULT gen_random_uuid() NOT NULL,
        invoice_id uuid,
        amount_cents bigint NOT NULL,
        amount_currency character varying NOT NULL,
        units numeric DEFAULT 0.0 NOT NULL,
        precise_unit_amount numeric(30,15) DEFAULT 0.0 NOT NULL,
        unit_amount_cents bigint DEFAULT 0 NOT NULL,
        taxes_rate double precision DEFAULT 0.0 NOT NULL,
        properties jsonb DEFAULT '{}'::jsonb NOT NULL,
        grouped_by jsonb DEFAULT '{"by": ["region", "plan"]}'::jsonb NOT NULL,
        precise_coupons_amount_cents numeric(30,5) DEFAULT 0.0 NOT NULL,
        taxes_precise_amount_cents numeric(40,15) DEFAULT 0.0 NOT NULL,
        description_lower text GENERATED ALWAYS AS (lower(amount_currency::text) || ' ' || invoice_id::text) STORED,
        created_at timestamp(6) without time zone NOT NULL
    );
    ALTER TABLE ONLY public.fees ADD CONSTRAINT fees_pkey PRIMARY KEY (id);`,
  schema: defineSchema(
    table('customers', {
      id: c.uuid().primaryKey().defaultSql('gen_random_uuid()'),
      external_id: c.varchar().notNull(),
      email: c.type('citext'),
      name: c.varchar(),
      vat_rate: c.doublePrecision(),
      invoice_grace_period: c.integer(),
      email_settings: c.array(c.varchar()).default([]),
      payment_provider_codes: c.array(c.text()).notNull().defaultSql('ARRAY[]::text[]'),
      created_at: c.timestamp(6).notNull(),
      updated_at: c.timestamp(6).notNull(),
    }),
    table('invoices', {
      id: c.uuid().primaryKey().defaultSql('gen_random_uuid()'),
      customer_id: c.uuid(),
      number: c.varchar().notNull().default(''),
      sequential_id: c.bigint().notNull().defaultSql("nextval('invoice_numbers'::regclass)"),
      issuing_date: c.date(),
      amount_cents: c.bigint().notNull().default(0),
      taxes_amount_cents: c.bigint().notNull().default(0),
      total_amount_cents: c.bigint().generatedAlwaysAs(sql`${sql.ref('amount_cents')} + ${sql.ref('taxes_amount_cents')}`),
      taxes_rate: c.doublePrecision().notNull().default(0),
      status: c.integer().notNull().default(1),
      version_number: c.integer().notNull().default(4),
      metadata: c.jsonb().notNull().default({}),
      ready_for_payment_processing: c.boolean().notNull().default(true),
      created_at: c.timestamp(6).notNull(),
    }),
    table('fees', {
      id: c.uuid().primaryKey().defaultSql('gen_random_uuid()'),
      invoice_id: c.uuid(),
      amount_cents: c.bigint().notNull(),
      amount_currency: c.varchar().notNull(),
      units: c.numeric().notNull().default(0),
      precise_unit_amount: c.numeric(30, 15).notNull().default('0.0'),
      unit_amount_cents: c.bigint().notNull().default(0),
      taxes_rate: c.doublePrecision().notNull().default(0),
      properties: c.jsonb().notNull().default({}),
      grouped_by: c.jsonb().notNull().default({ by: ['region', 'plan'] }),
      precise_coupons_amount_cents: c.numeric(30, 5).notNull().default('0.0'),
      taxes_precise_amount_cents: c.numeric(40, 15).notNull().default('0.0'),
      description_lower: c.text().generatedAlwaysAs("lower(amount_currency::text) || ' ' || invoice_id::text"),
      created_at: c.timestamp(6).notNull(),
    }),
  ),
}

export const REAL_WORLD_CASES: readonly RealWorldCase[] = [filmRental, mappingSite, billing]

const t = (columns: Parameters<typeof table>[1]) => defineSchema(table('t', { id: c.integer().primaryKey(), ...columns }))

/** Defaults as structure dumps and hand-written DDL spell them: `[column type, default expression]`. */
const DEFAULTS_IN_THE_WILD: readonly (readonly [string, string])[] = [
  ['date', "'2020-01-01'"], ['date', 'CURRENT_DATE + 1'], ['date', 'now()'], ['timestamp without time zone', "'2020-01-01'"],
  ['timestamp with time zone', "'2020-01-01 10:00:00+02'"], ['timestamp(0) with time zone', 'now()'],
  ['timestamp with time zone', "now() + interval '1 day'"], ['timestamp without time zone', "now() at time zone 'utc'"],
  ['time without time zone', "'10:00'"], ['time with time zone', 'CURRENT_TIME'], ['interval', "'1 day'"], ['interval', "'24 hours'"],
  ['interval', "interval '1' hour"], ['text', "'a' || 'b'"], ['text', "lower('X')"], ['character varying(10)', "'x'::text"],
  ['character(3)', "'a'"], ['integer', '1 + 1'], ['integer', "'7'::bigint"], ['bigint', '(2)::bigint * 3'], ['numeric(5,1)', '1.25'],
  ['numeric', "'1e-3'"], ['real', "'1e-3'"], ['double precision', 'pi()'], ['boolean', "'yes'"], ['boolean', '1 = 1'],
  ['boolean', 'NOT false'], ['uuid', "'00000000-0000-0000-0000-000000000000'"], ['uuid', 'gen_random_uuid()'], ['inet', "'10.0.0.1/32'"],
  ['cidr', "'10.0.0.0/8'"], ['macaddr', "'08:00:2b:01:02:03'"], ['bytea', String.raw`'\x00ff'`], ['bytea', "'abc'::bytea"],
  ['json', `'{"b":1, "a":2}'`], ['jsonb', `'[1, {"x": null}]'`], ['jsonb', "jsonb_build_object('a', 1)"], ['text[]', "'{a,b}'::text[]"],
  ['text[]', "ARRAY['a', NULL]"], ['integer[]', "'{}'"], ['integer[]', 'ARRAY[]::integer[]'], ['integer[]', 'array[1,2] || 3'],
  ['character varying(5)[]', "'{x}'"], ['numeric(4,2)[]', "'{1.005}'"], ['boolean[]', "'{true,no}'"], ['jsonb[]', "ARRAY['{}'::jsonb]"],
  ['text', 'CURRENT_USER'], ['text', "current_setting('TimeZone')"], ['oid', "'pg_class'::regclass"], ['money', '12.5'],
  ['tsvector', "to_tsvector('simple', 'a b')"], ['int4range', "'[1,5)'"], ['point', "'(1,2)'"], ['bit(3)', "B'101'"], ['xml', "'<a/>'"],
  ['text', "'it''s'"], ['text', String.raw`E'tab\there'`], ['text', '$$dollar$$'], ['integer', '-2147483648'], ['bigint', '-9223372036854775808'],
  ['smallint', "'-5'"], ['double precision', "'NaN'"], ['numeric', "'Infinity'"], ['double precision', "'-Infinity'"],
  ['timestamp with time zone', "'infinity'"], ['date', "'epoch'"], ['text', "NULL::text || 'x'"], ['boolean', "'x' IS NOT NULL"],
]
const wildSchema = t(Object.fromEntries(DEFAULTS_IN_THE_WILD.map(([type, expression], i) => [`d${i}`, c.type(type).defaultSql(expression)])))
const wildTable = `CREATE TABLE t (id integer PRIMARY KEY, ${DEFAULTS_IN_THE_WILD.map(([type, expression], i) => `d${i} ${type} DEFAULT (${expression})`).join(', ')})`

/**
 * What broke when real schemas were round-tripped, one case per finding,
 * run by the acceptance runner on every target.
 */
export const REAL_WORLD_FINDINGS: readonly AcceptanceCase[] = [
  {
    name: `${DEFAULTS_IN_THE_WILD.length} defaults as real schemas write them: planned on an empty database, they converge`,
    before: '',
    schema: wildSchema,
    steps: ['create-table t'],
  },
  {
    name: `${DEFAULTS_IN_THE_WILD.length} defaults as real schemas write them: declared as the database has them, no difference`,
    before: wildTable,
    schema: wildSchema,
    steps: [],
  },
  {
    name: 'numbers compare by value however they are spelt (0.0 and 0, strings and numbers)',
    before: `CREATE TABLE t (
      id integer PRIMARY KEY,
      n numeric(12,2) DEFAULT 0.0, n2 numeric DEFAULT 0.0, n3 numeric(12,2) DEFAULT '1.50',
      d double precision DEFAULT 0.0, d2 double precision DEFAULT '0.25', r real DEFAULT 0.0,
      i integer DEFAULT '5', s smallint DEFAULT -3, b bigint DEFAULT '-9999999999', b2 bigint DEFAULT 12
    )`,
    schema: t({
      n: c.numeric(12, 2).default(0),
      n2: c.numeric().default('0'),
      n3: c.numeric(12, 2).default(1.5),
      d: c.doublePrecision().default(0),
      d2: c.doublePrecision().default(0.25),
      r: c.real().default(0),
      i: c.integer().default(5),
      s: c.smallint().default(-3),
      b: c.bigint().default('-9999999999'),
      b2: c.bigint().default(12n),
    }),
    steps: [],
  },
  {
    name: 'string-spelt numeric defaults converge on an empty database',
    before: '',
    schema: t({
      n: c.numeric(12, 2).notNull().default('0.0'),
      rounded: c.numeric(12, 2).default('0.005'),
      plain: c.numeric().default('-0.50'),
      // JavaScript callers are not held by the typings: a string on an integer or double still converges.
      i: c.integer().default('5' as never),
      d: c.doublePrecision().default('0.25' as never),
      e: c.doublePrecision().default(1e20),
      b: c.bigint().default('9999999999'),
    }),
    steps: ['create-table t'],
  },
  {
    name: 'string-spelt numeric defaults converge when added to an existing table',
    before: 'CREATE TABLE t (id integer PRIMARY KEY)',
    schema: t({ n: c.numeric(12, 2).notNull().default('0.0'), d: c.doublePrecision().default('0.25' as never) }),
    steps: ['add-column t.n', 'add-column t.d'],
  },
  {
    name: 'array defaults are written as array literals and converge',
    before: '',
    schema: t({
      tags: c.array(c.text()).notNull().default([]),
      codes: c.array(c.integer()).default([1, -2, 3]),
      odd: c.array(c.text()).default(['a b', "it's", 'say "hi"', 'back\\slash', 'NULL', '', 'x,y', '{braces}']),
      with_null: c.array(c.text()).default(['a', null as never]),
      grid: c.array(c.array(c.integer())).default([
        [1, 2],
        [3, 4],
      ]),
      amounts: c.array(c.numeric(6, 2)).default(['1.5', 2]),
      flags: c.array(c.boolean()).default([true, false]),
    }),
    steps: ['create-table t'],
    sqlContains: [`DEFAULT '{}'`],
  },
  {
    name: "array defaults compare equal whichever way PostgreSQL stores them ('{}' or ARRAY[])",
    before: `CREATE TABLE t (
      id integer PRIMARY KEY,
      a text[] DEFAULT '{}', b text[] DEFAULT ARRAY[]::text[], c text[] DEFAULT ARRAY['x', 'y z'],
      d integer[] DEFAULT ARRAY[1, 2], e character varying[] DEFAULT '{}'::character varying[],
      f numeric[] DEFAULT '{0.0,1}'
    )`,
    schema: t({
      a: c.array(c.text()).default([]),
      b: c.array(c.text()).default([]),
      c: c.array(c.text()).default(['x', 'y z']),
      d: c.array(c.integer()).default([1, 2]),
      e: c.array(c.varchar()).default([]),
      f: c.array(c.numeric()).default([0, '1.0']),
    }),
    steps: [],
  },
  {
    name: 'a sequence default compares by the sequence it names',
    before: `CREATE SEQUENCE a_seq; CREATE SEQUENCE b_seq;
      CREATE TABLE t (id integer PRIMARY KEY, n bigint DEFAULT nextval('a_seq'), m bigint DEFAULT nextval('b_seq'::regclass))`,
    schema: t({ n: c.bigint().defaultSql("nextval('b_seq')"), m: c.bigint().defaultSql("nextval('public.b_seq'::regclass)") }),
    steps: [],
    heldBack: ['default-change t.n'],
  },
  {
    name: 'with --allow default-change a column moves to the sequence declared',
    before: `CREATE SEQUENCE a_seq; CREATE SEQUENCE b_seq; CREATE TABLE t (id integer PRIMARY KEY, n bigint DEFAULT nextval('a_seq'))`,
    schema: t({ n: c.bigint().defaultSql("nextval('b_seq'::regclass)") }),
    allow: ['default-change'],
    steps: ['alter-column-default t.n'],
  },
  {
    name: 'a serial declared where the column takes a shared sequence is never planned automatically',
    before: `CREATE SEQUENCE shared; CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL DEFAULT nextval('shared'))`,
    schema: t({ n: c.serial() }),
    allow: ['default-change', 'identity-change'],
    steps: [],
    heldBack: ['identity-change t.n'],
  },
  {
    name: 'a generated column compares by its expression, however it is spelt',
    before: `CREATE TABLE t (id integer PRIMARY KEY, price numeric(12,2), qty integer,
      total numeric GENERATED ALWAYS AS (price * qty) STORED,
      label text GENERATED ALWAYS AS ('#' || id::text) STORED)`,
    schema: t({
      price: c.numeric(12, 2),
      qty: c.integer(),
      total: c.numeric().generatedAlwaysAs('PRICE*qty'),
      label: c.text().generatedAlwaysAs(sql`'#' || ${sql.ref('id')}::text`),
    }),
    steps: [],
  },
  {
    name: 'a generated column declared as a default is reported, never taken for one',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a integer, g integer GENERATED ALWAYS AS (a * 2) STORED)`,
    schema: t({ a: c.integer(), g: c.integer().defaultSql('(a * 2)') }),
    steps: [],
    heldBack: ['generated-change t.g'],
  },
  {
    name: 'a generated column with another expression is reported',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a integer, g integer GENERATED ALWAYS AS (a * 2) STORED)`,
    schema: t({ a: c.integer(), g: c.integer().generatedAlwaysAs('a * 3') }),
    steps: [],
    heldBack: ['generated-change t.g'],
  },
  {
    name: 'a generated column is created and added',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a integer)`,
    schema: defineSchema(
      table('t', { id: c.integer().primaryKey(), a: c.integer(), g: c.integer().notNull().generatedAlwaysAs('coalesce(a, 0) + 1') }),
      table('u', { id: c.integer().primaryKey(), name: c.text(), lower_name: c.text().generatedAlwaysAs('lower(name)') }),
    ),
    steps: ['add-column t.g', 'create-table u'],
    sqlContains: ['GENERATED ALWAYS AS (coalesce(a, 0) + 1) STORED', 'GENERATED ALWAYS AS (lower(name)) STORED'],
  },
  {
    name: 'a stored generated column added to a table with rows is held back (it rewrites the table)',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a integer); INSERT INTO t VALUES (1, 1);`,
    schema: t({ a: c.integer(), g: c.integer().generatedAlwaysAs('a + 1') }),
    steps: [],
    heldBack: ['stored-generated-column t.g'],
  },
  {
    name: 'a partitioned table is never compared as a plain one',
    before: `CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at)`,
    schema: defineSchema(table('events', { id: c.bigint().notNull(), at: c.date().notNull() })),
    steps: [],
    heldBack: ['partitioning-change events'],
  },
  {
    name: 'a plain table is never taken for a declared partitioned one',
    before: `CREATE TABLE events (id bigint NOT NULL, at date NOT NULL)`,
    schema: defineSchema(table('events', { id: c.bigint().notNull(), at: c.date().notNull() }, { partitionBy: 'range (at)' })),
    steps: [],
    heldBack: ['partitioning-change events'],
  },
  {
    name: 'a declared partitioned table is created, and matches',
    before: '',
    schema: defineSchema(
      table(
        'events',
        { id: c.bigint().notNull(), region: c.text().notNull(), at: c.date().notNull() },
        { primaryKey: ['region', 'id'], partitionBy: 'LIST (region)' },
      ),
    ),
    steps: ['create-table events'],
    sqlContains: ['PARTITION BY LIST (region)'],
  },
  {
    name: 'a NULL default is no default, however it is cast',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a timestamp DEFAULT NULL::timestamp,
      b character varying(10) DEFAULT NULL::character varying, c text DEFAULT NULL, d integer DEFAULT NULL::integer)`,
    schema: t({ a: c.timestamp(), b: c.varchar(10).defaultSql('NULL::character varying'), c: c.text(), d: c.integer().defaultSql('NULL') }),
    steps: [],
  },
  {
    name: 'enum, domain, tsvector and extension-type columns through c.type',
    before: `CREATE EXTENSION IF NOT EXISTS citext;
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN us_zip AS text CHECK (VALUE ~ '^[0-9]{5}$');
      CREATE SCHEMA audit; CREATE TYPE audit."Level" AS ENUM ('low', 'high');
      CREATE TABLE t (id integer PRIMARY KEY, m mood DEFAULT 'ok', z us_zip, doc tsvector, email citext,
        moods mood[] DEFAULT '{sad,happy}', lvl audit."Level", r int4range, bits bit(3), money money DEFAULT 0)`,
    schema: t({
      m: c.type<'sad' | 'ok' | 'happy'>('mood').default('ok'),
      z: c.type('us_zip'),
      doc: c.type('tsvector'),
      email: c.type('citext'),
      moods: c.array(c.type<'sad' | 'ok' | 'happy'>('mood')).default(['sad', 'happy']),
      lvl: c.type('audit."Level"'),
      r: c.type('int4range'),
      bits: c.type('bit(3)'),
      money: c.type<string, string | number>('money').default(0),
    }),
    steps: [],
  },
  {
    name: 'enum, domain, tsvector and extension-type columns are added to an existing table',
    before: `CREATE EXTENSION IF NOT EXISTS citext;
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN us_zip AS text CHECK (VALUE ~ '^[0-9]{5}$');
      CREATE TABLE t (id integer PRIMARY KEY)`,
    schema: t({
      m: c.type('mood').notNull().default('ok'),
      z: c.type('US_ZIP'),
      doc: c.type('tsvector'),
      email: c.type('public.citext'),
      moods: c.array(c.type('mood')).default(['sad', 'happy']),
    }),
    steps: ['add-column t.m', 'add-column t.z', 'add-column t.doc', 'add-column t.email', 'add-column t.moods'],
  },
  {
    name: '--allow drop-column:<table.column> plans that drop alone',
    before: `CREATE TABLE call_log (id integer PRIMARY KEY, legacy_flag boolean, other_a text, other_b text)`,
    schema: defineSchema(table('call_log', { id: c.integer().primaryKey() })),
    allow: ['drop-column:call_log.legacy_flag'],
    steps: ['drop-column call_log.legacy_flag'],
    heldBack: ['drop-column call_log.other_a', 'drop-column call_log.other_b'],
  },
]
