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
    // As the command line runs (src/cli/bin.ts): PGlite's WebAssembly compiled once, by V8's baseline
    // compiler, and never again in background threads that compete with the other test file.
    poolOptions: { forks: { execArgv: ['--liftoff-only'] } },
    // Two files at a time: most files spend much of their time waiting (on locks, timeouts, signals, a
    // server), which the other file's work fills. Three at once, on a machine shared with other suites,
    // queued so many CLI processes that tests waiting for one to connect timed out.
    maxWorkers: 2,
    minWorkers: 1,
  },
})
