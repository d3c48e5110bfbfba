/**
 * Small readers that validate one option each and name the option, the value
 * and the fix when it is wrong. Options are validated once, at the edge; the
 * rest of the code trusts the resolved, frozen config.
 */
import { closestNames } from './did-you-mean.js'

export class OptionsError extends Error {
  override readonly name = 'OptionsError'
}

type Section = Record<string, unknown>

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** Reads a nested options object, rejecting anything that is not a plain object. */
export function readSection(parent: Section, key: string, path: string): Section | undefined {
  const value = parent[key]
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OptionsError(`options.${path} must be an object, got ${describe(value)}. Pass { ... } with its keys, or omit it to use the defaults.`)
  }
  return value as Section
}

/**
 * Throws on the first key `allowed` does not list, with the fix: a near spelling, or, through
 * `nested` (section name → its keys), the section the key belongs in (`table` → `postgres.table`).
 */
export function rejectUnknownKeys(section: Section, allowed: readonly string[], path: string, nested: Readonly<Record<string, readonly string[]>> = {}): void {
  for (const key of Object.keys(section)) {
    if (allowed.includes(key)) continue
    const where = path ? `options.${path}` : 'options'
    const homes = Object.entries(nested).filter(([, keys]) => keys.includes(key))
    if (homes.length > 0) {
      const [first] = homes[0] as [string, readonly string[]]
      throw new OptionsError(
        `${where} has an unknown key "${key}". Did you mean ${homes.map(([home]) => `"${path ? `${path}.` : ''}${home}.${key}"`).join(' or ')}? ` +
          `It belongs inside its section: { ${first}: { ${key}: ... } }. Known keys here: ${allowed.join(', ')}.`,
      )
    }
    const close = closestNames(key, allowed)
    const hint = close.length > 0 ? ` Did you mean ${close.map((k) => `"${k}"`).join(' or ')}?` : ''
    throw new OptionsError(`${where} has an unknown key "${key}".${hint} Known keys: ${allowed.join(', ')}.`)
  }
}

interface IntRule {
  min: number
  max?: number
  unit?: string
}

export function readInt(section: Section, key: string, path: string, fallback: number, rule: IntRule): number {
  const value = section[key]
  if (value === undefined) return fallback
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > max) {
    const unit = rule.unit ? ` (${rule.unit})` : ''
    const range = rule.max === undefined ? `>= ${rule.min}` : `between ${rule.min} and ${max}`
    throw new OptionsError(`options.${path}.${key} must be an integer ${range}${unit}, got ${describe(value)}. Omit it to use the default ${fallback}.`)
  }
  return value
}

export function readString(section: Section, key: string, path: string): string | undefined {
  const value = section[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new OptionsError(`options.${path}.${key} must be a non-empty string, got ${describe(value)}. Pass a string or omit the key.`)
  }
  return value
}

export function readBoolean(section: Section, key: string, path: string, fallback: boolean): boolean {
  const value = section[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') {
    throw new OptionsError(`options.${path}.${key} must be true or false, got ${describe(value)}. Omit it to use the default ${fallback}.`)
  }
  return value
}

export function readEnum<T extends string>(section: Section, key: string, path: string, allowed: readonly T[], fallback: T): T {
  const value = section[key]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const close = typeof value === 'string' ? closestNames(value, allowed) : []
    const hint = close.length > 0 ? ` Did you mean ${close.map((a) => `'${a}'`).join(' or ')}?` : ''
    throw new OptionsError(
      `options.${path}.${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}.${hint} Omit it to use the default '${fallback}'.`,
    )
  }
  return value as T
}

/** SQL identifiers we accept: plain lower-case names, so no quoting or escaping is ever needed. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/

export function readIdentifier(section: Section, key: string, path: string, fallback: string): string {
  const value = section[key] ?? fallback
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
    throw new OptionsError(
      `options.${path}.${key} must be a plain SQL identifier (lower-case letters, digits and _, starting with a letter or _, at most 48 characters), got ${describe(value)}.${identifierHint(key, value)}`,
    )
  }
  return value
}

/** The likely fix for a refused identifier: a schema-qualified name goes in two options; upper case goes lower. */
function identifierHint(key: string, value: unknown): string {
  if (typeof value !== 'string') return ''
  const qualified = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(value)
  if (qualified && key === 'table') {
    const [, schema = '', table = ''] = qualified
    return ` The schema is an option of its own: pass { ${key}: '${table.toLowerCase()}', schema: '${schema.toLowerCase()}' } (postgres.schema, default 'public').`
  }
  if (IDENTIFIER_PATTERN.test(value.toLowerCase())) return ` Use lower case: '${value.toLowerCase()}'.`
  return ''
}
