/** `sluice materialize` usage errors, from the built CLI as a child process: the exit code and what it prints. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

describe('sluice materialize usage', () => {
  const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, [cli, 'materialize', ...args], { env: { ...process.env, DATABASE_URL: '' } }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    )

  it.each([
    [[], /give exactly one row id/],
    [['12', '13', '--bucket', 'b-1'], /give exactly one row id/],
    [['12', '--bucket', 'b-1'], /give --url postgres:\/\/… or set DATABASE_URL/],
    [['12', '--url', 'postgres://u@127.0.0.1:1/db'], /give --bucket/],
    [['12', '--url', 'postgres://u@127.0.0.1:1/db', '--bucket', 'b-1', '--checksums', 'never'], /--checksums must be WHEN_SUPPORTED or WHEN_REQUIRED, got "never"/],
    [['12', '--nope'], /unknown option --nope\. Options: --url, --db, --table/],
    [['12', '--buckt', 'b-1'], /unknown option --buckt\. Did you mean --bucket\?/],
  ])('exits 2 with the problem and the usage for %j', async (args, message) => {
    const { code, stderr } = await run(...args)
    expect(code).toBe(2)
    expect(stderr).toMatch(message)
    expect(stderr).toContain('Usage: sluice materialize <id> --bucket <bucket>')
  })
})
