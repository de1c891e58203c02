import pg from 'pg'
import type { describeRun } from './server.js'

/** The application's writes during one phase of a bench run. */
export interface Phase {
  readonly label: string
  readonly writes: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** How long the phase's own work took (the apply, the plain DDL); the steady phase's length otherwise. */
  readonly ms: number
  /** The machine's 1-minute load average as the phase ended: the cores are shared with whatever else runs. */
  readonly load: number
}

/** A bench run of application writes against a migration: what its results file holds. */
export interface Results {
  readonly rows: number
  readonly clients: number
  readonly phases: readonly Phase[]
  readonly versions: Awaited<ReturnType<typeof describeRun>>
}

/**
 * An application's load on a database: `clients` connections each running
 * `iteration` in a loop. After a second's warm-up, the latencies each
 * iteration reports are kept while `during` runs, then the loops stop.
 */
export async function latenciesWhile<T>(
  url: string,
  clients: number,
  iteration: (client: pg.Client, n: number, i: number) => Promise<readonly number[]>,
  during: () => Promise<T>,
): Promise<{ latencies: number[]; result: T }> {
  const connected = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: url, application_name: 'app' })
      await client.connect()
      return client
    }),
  )
  let recording = false
  let stop = false
  const latencies: number[] = []
  const loops = connected.map(async (client, n) => {
    for (let i = 0; !stop; i++) {
      const measured = await iteration(client, n, i)
      if (recording) latencies.push(...measured)
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 1000)) // warm up
  recording = true
  try {
    return { latencies, result: await during() }
  } finally {
    recording = false
    stop = true
    await Promise.all(loops)
    await Promise.all(connected.map((client) => client.end()))
  }
}
