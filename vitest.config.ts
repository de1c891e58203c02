import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Database tests share one PostgreSQL server; each test gets its own database.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
