/**
 * The README's code, type-checked the way a user's project would: every ```js
 * and ```ts block becomes a TypeScript module of an app that depends on pino-sluice (this
 * checkout's built types) and pino, compiled with the tsconfig `tsc --init`
 * writes (TypeScript 7, what a user installs today: strict, exactOptionalPropertyTypes,
 * verbatimModuleSyntax, ...) and with a plain `strict` one.
 * Run after `npm run build` (npm test does): it reads dist/'s declarations.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript-7/bin/tsc')
const run = promisify(execFile)

/** The README's ```js and ```ts blocks, in order. */
function readmeSnippets(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  return [...readme.matchAll(/^```(?:js|ts)\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '')
}

async function tsc(cwd: string, project: string): Promise<string> {
  try {
    await run(process.execPath, [TSC, '-p', project, '--noEmit'], { cwd })
    return ''
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message
  }
}

describe("the README's code compiles in a TypeScript app", () => {
  let app: string
  const snippets = readmeSnippets()

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true })
    app = mkdtempSync(join(ROOT, '.tmp', 'readme-types-'))
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }))
    // The app's dependencies: this checkout as `pino-sluice` (its exports point at dist/), and pino.
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true })
    symlinkSync(ROOT, join(app, 'node_modules/pino-sluice'), 'dir')
    symlinkSync(join(ROOT, 'node_modules/pino'), join(app, 'node_modules/pino'), 'dir')
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'), 'dir')
    snippets.forEach((code, index) => writeFileSync(join(app, `snippet-${index + 1}.ts`), code))
    // Exactly what `tsc --init` writes for this TypeScript version.
    await run(process.execPath, [TSC, '--init'], { cwd: app })
    writeFileSync(
      join(app, 'tsconfig.strict.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: ['node'] }, include: ['snippet-*.ts'] }),
    )
  }, 60_000)
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true })
  })

  it('finds the quick start among the snippets, and a typed pino.transport', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3)
    expect(snippets[0]).toContain('url: process.env.DATABASE_URL')
    expect(snippets.some((code) => code.includes('pino.transport<SluiceOptions>'))).toBe(true)
  })

  it('under the tsconfig `tsc --init` writes (exactOptionalPropertyTypes and all)', async () => {
    const config = readFileSync(join(app, 'tsconfig.json'), 'utf8')
    // The point of this case: the options that rejected `url: process.env.DATABASE_URL`.
    expect(config).toMatch(/^\s*"exactOptionalPropertyTypes": true/m)
    expect(config).toMatch(/^\s*"strict": true/m)
    expect(await tsc(app, 'tsconfig.json')).toBe('')
  }, 60_000)

  it('under a plain strict tsconfig', async () => {
    expect(await tsc(app, 'tsconfig.strict.json')).toBe('')
  }, 60_000)
})
