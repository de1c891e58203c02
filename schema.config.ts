import { defineConfig } from './src/index.js'

/**
 * This repository's own settings, read by `npm run schema:*` the way an
 * application's are read by `npx kysely-schema-migrate`.
 */
export default defineConfig({
  schema: 'schema/index.ts',
  migrations: 'generated-migrations',
})
