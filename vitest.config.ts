import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Database tests share one PostgreSQL server; each test gets its own database.
    // Generous: each CLI test starts a Node process, and a busy 2-core machine slows start-up several times.
    testTimeout: 120_000,
    // Concurrent tests (one database each) mostly wait on locks and timers; more at once would only
    // queue their processes' start-up on the CPU.
    maxConcurrency: 4,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run one at a time (Vitest's default on 2 cores): on a machine shared with other suites, three
    // at once queued so many CLI processes that tests waiting for one to connect timed out. The time is won
    // inside files instead, by concurrent tests on databases of their own.
  },
})
