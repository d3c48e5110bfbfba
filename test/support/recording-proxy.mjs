// Worker-thread body of startRecordingProxy() (test/support/cloudwatch.ts). It runs off the test's
// main thread because pino's transport.end() blocks that thread (Atomics.wait) while the worker
// drains — a proxy living there could not answer the exit flush it is meant to observe.
import { createServer, request as httpRequest } from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'
import { gunzipSync } from 'node:zlib'

const { target, throttle } = workerData
const requests = []

const server = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = Buffer.concat(chunks)
  const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body
  if (String(req.headers['x-amz-target'] ?? '').endsWith('PutMetricData')) {
    const data = JSON.parse(plain.toString()).MetricData ?? []
    const throttled = requests.length < throttle
    requests.push({ bytes: plain.length, wireBytes: body.length, datums: data.length, maxValues: Math.max(0, ...data.map((d) => d.Values?.length ?? 0)), throttled })
    if (throttled) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'Throttling;Sender' })
      res.end(JSON.stringify({ __type: 'com.amazonaws.cloudwatch#Throttling', message: 'Rate exceeded' }))
      return
    }
  }
  if (!target) {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
    res.end('{}')
    return
  }
  // moto_server 5.2 gunzips request bodies twice and fails, so it gets them uncompressed.
  const headers = { ...req.headers, 'content-length': String(plain.length) }
  delete headers['content-encoding']
  const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => {
    res.writeHead(502)
    res.end()
  })
  upstream.end(plain)
})

server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }))
parentPort.on('message', (message) => {
  if (message === 'requests') parentPort.postMessage({ requests })
  if (message === 'close') {
    server.closeAllConnections()
    server.close(() => parentPort.close())
  }
})
