/** Which entry point loads OpenTelemetry: the package as an app imports it (its exports map, so the built dist/). */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

describe('packaging', () => {
  it("importing 'pino-sluice' loads no @opentelemetry module; 'pino-sluice/otel' does", async () => {
    const hooks = `export async function resolve(specifier, context, next) {
      if (specifier.startsWith('@opentelemetry/')) process.stdout.write('loaded ' + specifier + '\\n')
      return next(specifier, context)
    }`
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`
    const run = (entry: string) =>
      promisify(execFile)(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import('${entry}')`], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      })
    const main = await run('pino-sluice')
    expect(main.stdout).toBe('')
    const otel = await run('pino-sluice/otel')
    expect(otel.stdout).toContain('loaded @opentelemetry/api')
  })
})
