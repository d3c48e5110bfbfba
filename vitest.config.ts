import { defineConfig } from 'vitest/config'
// vitest 5's reporter calls Map.groupBy (Node 21+): without this, a failing run on Node 20 prints a TypeError instead of its failures.
import './test/support/node20-polyfills.mjs'

/**
 * Two projects, one run (`vitest run` runs both; `--project unit` one):
 *
 *   unit         test/unit/: the source as it is (src/, sinks/ imported directly), no build, no
 *                server, no worker thread; time is faked where a test is about time.
 *   integration  test/integration/: the built worker and CLI from dist/ against real servers
 *                (embedded Postgres, s3rver, moto_server), started once for the run.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files share one Postgres server but use their own tables; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // test/*.test.ts: a file still at the top level (from a branch older than the split) runs here,
          // where everything it might need is started; move it to unit/ or integration/.
          include: ['test/integration/**/*.test.ts', 'test/*.test.ts'],
          // global-setup.ts also refuses to start without dist/: these tests run the built code.
          globalSetup: ['test/support/global-setup.ts', 'test/support/s3-setup.ts', 'test/support/moto-setup.ts'],
        },
      },
    ],
  },
})
