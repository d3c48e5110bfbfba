/** Redraws the chart of a finished run: `node dist/bench/chart.js bench/results/<stamp>.json`. */
import { readFileSync, writeFileSync } from 'node:fs'
import { chartSvg } from './report/chart-svg.js'
import type { BenchReport } from './report/write-results.js'

const [file] = process.argv.slice(2)
if (!file?.endsWith('.json')) {
  process.stderr.write('usage: node dist/bench/chart.js bench/results/<stamp>.json\n')
  process.exit(2)
}
const svg = chartSvg(JSON.parse(readFileSync(file, 'utf8')) as BenchReport)
writeFileSync(file.replace(/\.json$/, '.svg'), svg)
process.stdout.write(`wrote ${file.replace(/\.json$/, '.svg')}\n`)
