// Owned by issue 4.
import type { Command } from '../command.js'

export const materializeCommand: Command = {
  name: 'materialize',
  summary: 'Print one row with its offloaded payloads fetched',
  usage: 'Usage: sluice materialize\n\nNot available yet.\n',
  async run() {
    process.stderr.write('sluice materialize: not available yet\n')
    return 1
  },
}
