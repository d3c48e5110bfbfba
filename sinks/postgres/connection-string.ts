/**
 * What we may say about a Postgres connection string without leaking it.
 *
 * postgres.js 3.4 parses a URL in two steps (src/index.js, parseUrl): it takes
 * the host list after the first `@` of the authority, then hands the rest to
 * WHATWG `new URL`, which splits user info at the last `@`. So
 * `postgres://u:Hunter@2secret@host/db` connects to `host` with the password
 * `Hunter@2secret`; a message built from "whatever follows an `@`" would print
 * `2secret@host`. Messages are built from the host and port alone.
 */

/** `new URL` as postgres.js calls it; undefined when postgres.js would throw (its error echoes the whole URL). */
function parseLikePostgresJs(url: string): URL | undefined {
  try {
    let host = url.slice(url.indexOf('://') + 3).split(/[?/]/)[0] ?? ''
    host = decodeURIComponent(host.slice(host.indexOf('@') + 1))
    const parsed = new URL(url.replace(host, host.split(',')[0] ?? ''))
    decodeURIComponent(parsed.username)
    decodeURIComponent(parsed.password)
    return parsed
  } catch {
    return undefined
  }
}

/** True when postgres.js can parse `url`; the fix for one it cannot is in UNPARSEABLE_URL_FIX. */
export function isParseableConnectionString(url: string): boolean {
  return parseLikePostgresJs(url) !== undefined
}

export const UNPARSEABLE_URL_FIX =
  'Percent-encode the characters of the user name and password that a URL reserves (# as %23, @ as %40, / as %2F, ? as %3F, % as %25, : in the user name as %3A), e.g. with encodeURIComponent(password).'

/** Only what a host or port can hold; anything else is not echoed. */
const HOST_PORT = /^[A-Za-z0-9._~%-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.%A-Za-z]+\](?::\d{1,5})?$/

/**
 * `host:port` of the first server a connection string names, for messages:
 * never the user name or password, whatever characters they hold. Falls back
 * to "the configured server" rather than guess.
 */
export function serverAddress(url: string): string {
  const parsed = parseLikePostgresJs(url)
  if (parsed === undefined) return 'the configured server'
  // The authority after the last `@` (WHATWG's user-info split), first host of a list.
  const authority = url.slice(url.indexOf('://') + 3).split(/[?/#]/)[0] ?? ''
  const first = (authority.slice(authority.lastIndexOf('@') + 1).split(',')[0] ?? '').trim()
  if (first === '') return 'the configured server'
  const hasPort = first.startsWith('[') ? /\]:\d+$/.test(first) : /:\d+$/.test(first)
  const address = hasPort ? first : `${first}:${parsed.port || '5432'}`
  return HOST_PORT.test(address) ? address : 'the configured server'
}
