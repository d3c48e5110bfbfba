import { defineConfig } from 'vitest/config'
// vitest 5's reporter calls Map.groupBy (Node 21+): without this, a failing run on Node 20 prints a TypeError instead of its failures.
import './test/support/node20-polyfills.mjs'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts', 'test/support/s3-setup.ts', 'test/support/moto-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files share one Postgres server but use their own tables; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
