import { c, check, defineSchema, foreignKey, index, table, unique } from '../../src/dsl/index.js'
import type { AcceptanceCase } from './cases.js'

/**
 * Foreign keys, check constraints and NOT NULL on existing columns: declared,
 * planned, applied with the production executor, verified by the post-apply
 * assertion (present, VALID, definition equal), and planned again to nothing.
 */

const accounts = table('accounts', {
  id: c.bigint().primaryKey(),
  org: c.integer().notNull(),
  code: c.text().notNull(),
}, { unique: [unique('org', 'code')] })

const invoiceColumns = {
  id: c.bigint().primaryKey(),
  account_id: c.bigint().references(accounts, 'id', { onDelete: 'cascade' }),
  org: c.integer(),
  code: c.text(),
  parent_id: c.bigint(),
  amount: c.numeric(12, 2).notNull(),
  status: c.text(),
}

const invoices = (options: Parameters<typeof table<'invoices', typeof invoiceColumns>>[2]) =>
  defineSchema(accounts, table('invoices', invoiceColumns, options))

/** The indexes WITH_ROWS has, so that foreign keys have them (and none is left to drop). */
const indexes = [index('account_id'), index('org', 'code')]

const FULL = {
  indexes,
  foreignKeys: [
    foreignKey('org', 'code').references(accounts, 'org', 'code').onUpdate('cascade'),
    foreignKey('parent_id').references('invoices', 'id').onDelete('set null').name('invoices_parent_fk'),
  ],
  checks: [check('invoices_amount_positive', 'amount>0'), check('invoices_status_known', "status IN ('draft', 'sent')")],
} as const

/** Both tables with rows that satisfy every declared constraint. */
const WITH_ROWS = `
  CREATE TABLE accounts (id bigint PRIMARY KEY, org integer NOT NULL, code text NOT NULL, CONSTRAINT accounts_org_code_key UNIQUE (org, code));
  CREATE TABLE invoices (id bigint PRIMARY KEY, account_id bigint, org integer, code text, parent_id bigint, amount numeric(12,2) NOT NULL, status text);
  CREATE INDEX invoices_account_id_idx ON invoices (account_id);
  CREATE INDEX invoices_org_code_idx ON invoices (org, code);
  INSERT INTO accounts SELECT g, g % 3, 'c' || g FROM generate_series(1, 50) g;
  INSERT INTO invoices SELECT g, 1 + g % 50, (1 + g % 50) % 3, 'c' || (1 + g % 50), NULLIF(g - 1, 0), g, 'draft' FROM generate_series(1, 300) g;`

/** A partitioned table with rows, without the foreign key PARTITIONED_CALLS declares. */
const PARTITIONED_WITH_ROWS = `
  CREATE TABLE accounts (id bigint PRIMARY KEY, org integer NOT NULL, code text NOT NULL, CONSTRAINT accounts_org_code_key UNIQUE (org, code));
  CREATE TABLE calls (id bigint NOT NULL, account_id bigint, at date NOT NULL) PARTITION BY RANGE (at);
  CREATE TABLE calls_2024 PARTITION OF calls FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  INSERT INTO accounts SELECT g, g % 3, 'c' || g FROM generate_series(1, 5) g;
  INSERT INTO calls SELECT g, 1 + g % 5, date '2024-03-01' FROM generate_series(1, 20) g;`

/** A partitioned table, with a foreign key to accounts, and no index for it (a warning, not a step). */
const PARTITIONED_CALLS = defineSchema(
  accounts,
  table('calls', { id: c.bigint().notNull(), account_id: c.bigint().references(accounts, 'id'), at: c.date().notNull() }, { partitionBy: 'RANGE (at)' }),
)

export const CONSTRAINT_CASES: readonly AcceptanceCase[] = [
  {
    name: 'a foreign key on a partitioned table with rows is held back (foreign-key-partitioned-scan): PostgreSQL before 18 cannot add it NOT VALID',
    before: PARTITIONED_WITH_ROWS,
    schema: PARTITIONED_CALLS,
    steps: [],
    heldBack: ['foreign-key-partitioned-scan calls.calls_account_id_fkey'],
  },
  {
    name: 'allowed, a foreign key on a partitioned table with rows is added and validated in one statement',
    before: PARTITIONED_WITH_ROWS,
    schema: PARTITIONED_CALLS,
    allow: ['foreign-key-partitioned-scan'],
    steps: ['add-constraint calls.calls_account_id_fkey'],
    sqlContains: ['ALTER TABLE "public"."calls" ADD CONSTRAINT "calls_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "public"."accounts" ("id")'],
  },
  {
    name: 'foreign keys and checks on tables the plan creates are added valid in its transaction',
    before: '',
    schema: invoices(FULL),
    steps: [
      'create-table accounts',
      'create-table invoices',
      'create-index accounts.accounts_org_code_key',
      'create-index accounts.accounts_org_code_key',
      'create-index invoices.invoices_account_id_idx',
      'create-index invoices.invoices_org_code_idx',
      'add-constraint invoices.invoices_account_id_fkey',
      'add-constraint invoices.invoices_amount_positive',
      'add-constraint invoices.invoices_org_code_fkey',
      'add-constraint invoices.invoices_parent_fk',
      'add-constraint invoices.invoices_status_known',
    ],
    sqlContains: [
      '',
      '',
      '',
      '',
      '',
      '',
      'ALTER TABLE "public"."invoices" ADD CONSTRAINT "invoices_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "public"."accounts" ("id") ON DELETE CASCADE',
      'ADD CONSTRAINT "invoices_amount_positive" CHECK (amount>0)',
      'FOREIGN KEY ("org", "code") REFERENCES "public"."accounts" ("org", "code") ON UPDATE CASCADE',
      'REFERENCES "public"."invoices" ("id") ON DELETE SET NULL',
    ],
  },
  {
    name: 'foreign keys and checks on tables with rows: added NOT VALID, then validated in a transaction of their own',
    before: WITH_ROWS,
    schema: invoices(FULL),
    steps: [
      'add-constraint invoices.invoices_account_id_fkey',
      'add-constraint invoices.invoices_account_id_fkey',
      'add-constraint invoices.invoices_amount_positive',
      'add-constraint invoices.invoices_amount_positive',
      'add-constraint invoices.invoices_org_code_fkey',
      'add-constraint invoices.invoices_org_code_fkey',
      'add-constraint invoices.invoices_parent_fk',
      'add-constraint invoices.invoices_parent_fk',
      'add-constraint invoices.invoices_status_known',
      'add-constraint invoices.invoices_status_known',
    ],
    sqlContains: [
      'REFERENCES "public"."accounts" ("id") ON DELETE CASCADE NOT VALID',
      'ALTER TABLE "public"."invoices" VALIDATE CONSTRAINT "invoices_account_id_fkey"',
      'CHECK (amount>0) NOT VALID',
      'VALIDATE CONSTRAINT "invoices_amount_positive"',
    ],
  },
  {
    name: 'NOT NULL on an existing column: a check added NOT VALID, validated, SET NOT NULL, the check dropped; no hazard',
    before: `CREATE TABLE t (id integer PRIMARY KEY, a text); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g;`,
    schema: defineSchema(table('t', { id: c.integer().primaryKey(), a: c.text().notNull() })),
    steps: ['alter-column-nullability t.a', 'alter-column-nullability t.a', 'alter-column-nullability t.a', 'alter-column-nullability t.a'],
    sqlContains: [
      'ALTER TABLE "public"."t" ADD CONSTRAINT "t_a_nn_ksm" CHECK ("a" IS NOT NULL) NOT VALID',
      'ALTER TABLE "public"."t" VALIDATE CONSTRAINT "t_a_nn_ksm"',
      'ALTER TABLE "public"."t" ALTER COLUMN "a" SET NOT NULL',
      'ALTER TABLE "public"."t" DROP CONSTRAINT IF EXISTS "t_a_nn_ksm"',
    ],
  },
  {
    name: 'constraints made by hand, spelt as PostgreSQL never prints them, match their declarations: no steps',
    before: `${WITH_ROWS}
      ALTER TABLE invoices ADD FOREIGN KEY (account_id) REFERENCES accounts ON DELETE CASCADE;
      ALTER TABLE invoices ADD FOREIGN KEY (org, code) REFERENCES accounts (org, code) ON UPDATE CASCADE;
      ALTER TABLE invoices ADD CONSTRAINT invoices_parent_fk FOREIGN KEY (parent_id) REFERENCES invoices ON DELETE SET NULL;
      ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (AMOUNT > 0.00);
      ALTER TABLE invoices ADD CONSTRAINT invoices_status_known CHECK (status = 'draft' OR status = 'sent');`,
    schema: invoices({
      ...FULL,
      checks: [check('invoices_amount_positive', 'amount > 0.00'), check('invoices_status_known', "status = 'draft' or status = 'sent'")],
    }),
    steps: [],
  },
  {
    name: 'a constraint left NOT VALID (a failed validation, or by hand) is validated',
    before: `${WITH_ROWS}
      ALTER TABLE invoices ADD FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE NOT VALID;
      ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0) NOT VALID;`,
    schema: invoices({ indexes, checks: [check('invoices_amount_positive', 'amount > 0')] }),
    steps: ['validate-constraint invoices.invoices_account_id_fkey', 'validate-constraint invoices.invoices_amount_positive'],
    sqlContains: ['VALIDATE CONSTRAINT "invoices_account_id_fkey"', 'VALIDATE CONSTRAINT "invoices_amount_positive"'],
  },
  {
    name: 'tables dropped together are dropped referencing ones first, whatever their names: a referenced one cannot go first',
    before: `CREATE TABLE accounts (id bigint PRIMARY KEY, org integer NOT NULL, code text NOT NULL, CONSTRAINT accounts_org_code_key UNIQUE (org, code));
      CREATE TABLE a_parents (id bigint PRIMARY KEY);
      CREATE TABLE m_middle (id bigint PRIMARY KEY, parent_id bigint REFERENCES a_parents);
      CREATE TABLE z_kids (id bigint PRIMARY KEY, middle_id bigint REFERENCES m_middle, parent_id bigint REFERENCES a_parents);`,
    schema: defineSchema(accounts),
    allow: ['drop-table'],
    steps: ['drop-table z_kids', 'drop-table m_middle', 'drop-table a_parents'],
  },
  {
    name: 'a changed check or foreign key is held back (constraint-change); constraints the schema lacks are held back (drop-constraint)',
    before: `${WITH_ROWS}
      ALTER TABLE invoices ADD FOREIGN KEY (account_id) REFERENCES accounts (id);
      ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount >= 0);
      ALTER TABLE invoices ADD CONSTRAINT legacy_check CHECK (id > 0);`,
    schema: invoices({ indexes, checks: [check('invoices_amount_positive', 'amount > 0')] }),
    steps: [],
    heldBack: ['constraint-change invoices.invoices_account_id_fkey', 'constraint-change invoices.invoices_amount_positive', 'drop-constraint invoices.legacy_check'],
  },
  {
    name: 'allowed constraint changes are dropped and added NOT VALID in one transaction, then validated; allowed drops are planned',
    before: `${WITH_ROWS}
      ALTER TABLE invoices ADD FOREIGN KEY (account_id) REFERENCES accounts (id);
      ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount >= 0);
      ALTER TABLE invoices ADD CONSTRAINT legacy_check CHECK (id > 0);`,
    schema: invoices({ indexes, checks: [check('invoices_amount_positive', 'amount > 0')] }),
    allow: ['constraint-change', 'drop-constraint'],
    steps: [
      'replace-constraint invoices.invoices_account_id_fkey',
      'replace-constraint invoices.invoices_account_id_fkey',
      'replace-constraint invoices.invoices_account_id_fkey',
      'replace-constraint invoices.invoices_amount_positive',
      'replace-constraint invoices.invoices_amount_positive',
      'replace-constraint invoices.invoices_amount_positive',
      'drop-constraint invoices.legacy_check',
    ],
    sqlContains: [
      'ALTER TABLE "public"."invoices" DROP CONSTRAINT IF EXISTS "invoices_account_id_fkey"',
      'ON DELETE CASCADE NOT VALID',
      'VALIDATE CONSTRAINT "invoices_account_id_fkey"',
      'DROP CONSTRAINT IF EXISTS "invoices_amount_positive"',
      'CHECK (amount > 0) NOT VALID',
      'VALIDATE CONSTRAINT "invoices_amount_positive"',
      'DROP CONSTRAINT IF EXISTS "legacy_check"',
    ],
  },
]
