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
    // Vitest's default on 2 cores is one worker, so files ran one after another while most of their time
    // is spent waiting on servers, locks, timers and child processes. Three files at once keep both cores
    // busy without queueing so many CLI processes that their start-up swamps the timing bounds.
    maxWorkers: 3,
    minWorkers: 1,
  },
})
