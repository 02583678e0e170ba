// Produces `count` numbered messages "<prefix>-<i>" (i from `start`) in sends of `batch`
// messages each, and reports every send's RecordMetadata.
//   {"broker", "topic", "count", "start": 0, "batch": 100, "prefix": "m",
//    "acks": -1 | 1, "compression": "none" | "gzip", "partition": <n> (else keyed by i % keys),
//    "keys": 0 (no keys) | k, "idempotent": false, "maxInFlightRequests": null}
'use strict'

const { CompressionTypes } = require('kafkajs')
const { kafka, emit, run } = require('./common')

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

run(async opts => {
  const producerOpts = { allowAutoTopicCreation: false }
  if (opts.idempotent) producerOpts.idempotent = true
  if (opts.maxInFlightRequests) producerOpts.maxInFlightRequests = opts.maxInFlightRequests
  const producer = kafka(opts).producer(producerOpts)
  await producer.connect()
  const count = opts.count || 0
  const start = opts.start || 0
  const batch = opts.batch || 100
  const prefix = opts.prefix || 'm'
  const compression = CODECS[opts.compression || 'none']
  if (compression === undefined) throw new Error(`unknown compression ${opts.compression}`)
  const sends = []
  try {
    for (let i = start; i < start + count; i += batch) {
      const messages = []
      for (let j = i; j < Math.min(i + batch, start + count); j++) {
        const m = { value: `${prefix}-${j}`, headers: { seq: String(j) } }
        if (opts.keys) m.key = `k${j % opts.keys}`
        if (opts.partition !== undefined && opts.partition !== null) m.partition = opts.partition
        messages.push(m)
      }
      const meta = await producer.send({
        topic: opts.topic,
        messages,
        acks: opts.acks === undefined ? -1 : opts.acks,
        compression,
        timeout: 15000,
      })
      sends.push({ first: i, count: messages.length, meta })
    }
  } finally {
    await producer.disconnect()
  }
  emit({ ev: 'sent', sends: sends.length })
  return { sends }
})
