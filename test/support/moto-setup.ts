/**
 * Starts one `moto_server` (a local CloudWatch API) for the run on a free
 * loopback port and provides its URL as `inject('motoEndpoint')`. When moto is
 * not installed or does not come up, it says so loudly and provides nothing:
 * the CloudWatch tests then skip with their own warning instead of passing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { TestProject } from 'vitest/node'

const START_TIMEOUT_MS = 20_000

let moto: ChildProcess | undefined

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) })
    return response.ok
  } catch {
    return false
  }
}

export async function setup(project: TestProject): Promise<void> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let failure: string | undefined
  let output = ''
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.on('error', (error) => (failure = error.message))
  child.on('exit', (code) => (failure ??= `exited with code ${code}`))
  // Keep only the start of the output for the warning; moto logs every request.
  const keep = (chunk: Buffer): void => {
    if (output.length < 2000) output += chunk.toString()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const started = Date.now()
  while (failure === undefined && Date.now() - started < START_TIMEOUT_MS) {
    if (await answers(url)) {
      moto = child
      project.provide('motoEndpoint', url)
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  console.warn(
    `\n!!! moto_server did not start (${failure ?? `no answer within ${START_TIMEOUT_MS} ms`}). ` +
      `The CloudWatch tests will be SKIPPED. Install moto (pip install 'moto[server]') to run them.\n${output.slice(0, 500)}\n`,
  )
}

export async function teardown(): Promise<void> {
  if (!moto || moto.exitCode !== null) return
  const exited = once(moto, 'exit')
  moto.kill('SIGTERM')
  const timer = setTimeout(() => moto?.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the local CloudWatch API; absent when moto_server could not start. */
    motoEndpoint?: string
  }
}
