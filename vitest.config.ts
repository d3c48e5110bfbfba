import { defineConfig } from 'vitest/config'

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
