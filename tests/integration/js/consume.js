// A kafkajs group consumer: subscribes to `topic` in group `groupId` and reports what it gets.
//   {"broker", "topic", "groupId", "fromBeginning": true, "autoCommit": false,
//    "stopAfter": <n messages>, "runForMs": <ms>, "commitOnStop": false,
//    "sessionTimeout": 10000, "heartbeatInterval": 500, "rebalanceTimeout": 10000}
// Events on stdout: {"ev": "join", "memberId", "isLeader", "assignment": {topic: [partitions]}}
// after every rebalance, {"ev": "msgs", "recs": [[partition, offset, value], ...]} per batch,
// {"ev": "crash", ...} if the consumer crashes. It stops after `stopAfter` messages, after
// `runForMs`, or when a line "stop" arrives on stdin; with commitOnStop it then commits, per
// partition, the offset after the last message it reported, and reports {"ev": "committed"}.
// Messages past `stopAfter` are neither reported nor committed.
'use strict'

const { kafka, emit, run, describeError } = require('./common')

run(async opts => {
  const consumer = kafka(opts).consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeout || 10000,
    rebalanceTimeout: opts.rebalanceTimeout || 10000,
    heartbeatInterval: opts.heartbeatInterval || 500,
    maxWaitTimeInMs: 250,
  })
  let stopWith
  const stopped = new Promise(resolve => (stopWith = resolve))
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', d => {
    if (d.split('\n').some(l => l.trim() === 'stop')) stopWith('stdin')
  })
  if (opts.runForMs) setTimeout(() => stopWith('time'), opts.runForMs)

  consumer.on(consumer.events.GROUP_JOIN, e =>
    emit({
      ev: 'join',
      memberId: e.payload.memberId,
      leaderId: e.payload.leaderId,
      isLeader: e.payload.isLeader,
      assignment: e.payload.memberAssignment,
    })
  )
  consumer.on(consumer.events.CRASH, e =>
    emit({ ev: 'crash', error: describeError(e.payload.error), restart: e.payload.restart })
  )

  await consumer.connect()
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: opts.fromBeginning !== false })
  let total = 0
  let stopping = false
  const last = {} // partition -> offset of the last reported message
  await consumer.run({
    autoCommit: !!opts.autoCommit,
    autoCommitInterval: opts.autoCommitInterval || null,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (stopping) return
      const recs = []
      for (const m of batch.messages) {
        if (opts.stopAfter && total >= opts.stopAfter) break
        recs.push([batch.partition, Number(m.offset), m.value === null ? null : m.value.toString()])
        last[batch.partition] = Number(m.offset)
        total++
        resolveOffset(m.offset)
      }
      if (recs.length) emit({ ev: 'msgs', recs })
      await heartbeat()
      if (opts.stopAfter && total >= opts.stopAfter) {
        stopping = true
        stopWith('count')
      }
    },
  })
  const reason = await stopped
  stopping = true
  let committed = null
  if (opts.commitOnStop) {
    committed = Object.entries(last).map(([p, o]) => ({
      topic: opts.topic,
      partition: Number(p),
      offset: String(o + 1),
    }))
    if (committed.length) await consumer.commitOffsets(committed)
    emit({ ev: 'committed', offsets: committed })
  }
  await consumer.disconnect()
  return { reason, total, committed }
})
