// Owned by issue 9.
import type { Command } from '../command.js'

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Drop expired partitions (--dry-run shows what would go)',
  usage: 'Usage: sluice prune\n\nNot available yet.\n',
  async run() {
    process.stderr.write('sluice prune: not available yet\n')
    return 1
  },
}
