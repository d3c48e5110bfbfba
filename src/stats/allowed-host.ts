/**
 * Which `Host` headers the stats endpoint answers (issue 27 item 9). A page
 * on attacker.example whose name is made to resolve to 127.0.0.1 (DNS
 * rebinding) reaches a loopback port from the victim's browser, but its
 * requests still say `Host: attacker.example`: refusing names we were not
 * configured with keeps hostname, pid and counters from leaking that way.
 *
 * The port in the header is not checked: behind a port-forward
 * (`kubectl port-forward 8080:9464`) the client names the forwarded port.
 */
import { isIP } from 'node:net'

/** The names every stats endpoint answers to: the loopback ones. */
const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1']

/** Binding to every interface: clients name the machine by one of its addresses, which we cannot list. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::'])


/**
 * A check for the `Host` header: the loopback names, and `boundHost` (the
 * `stats.host` option). Bound to a wildcard, any IP literal is accepted as
 * well: rebinding needs a name, and an address in `Host` means the client
 * connected to that address itself.
 */
export function hostChecker(boundHost: string): (header: string | undefined) => boolean {
  const names = new Set([...LOOPBACK_NAMES, boundHost.toLowerCase()])
  const anyAddress = WILDCARD_HOSTS.has(boundHost)
  return (header) => {
    const name = hostName(header)
    if (name === undefined) return false
    return names.has(name) || (anyAddress && isIP(name) !== 0)
  }
}

/** The name in a `Host` header, lower case, without port or IPv6 brackets; undefined when malformed. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined
  const value = header.toLowerCase()
  const match = value.startsWith('[') ? /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(value) : /^([^:]+)(?::(\d{1,5}))?$/.exec(value)
  return match?.[1]
}

/** `host` as it goes in a URL (IPv6 in brackets); a wildcard is reached through loopback. */
export function urlHost(host: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return isIP(reachable) === 6 ? `[${reachable}]` : reachable
}
