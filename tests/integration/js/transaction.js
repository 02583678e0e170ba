// Tries a kafkajs transactional producer: transaction(), send, commit. Tern does not implement
// transactions (FindCoordinator for a transactional id and InitProducerId with one answer
// COORDINATOR_NOT_AVAILABLE), so test_kafkajs.py expects this script to report ok=false with
// that error, quickly (few retries), and no message to be written.
//   {"broker", "topic", "transactionalId"}
'use strict'

const { kafka, emit, run } = require('./common')

run(async opts => {
  const producer = kafka(opts).producer({
    transactionalId: opts.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  try {
    const txn = await producer.transaction()
    emit({ ev: 'transaction-started' })
    await txn.send({ topic: opts.topic, messages: [{ value: 'in-a-transaction' }] })
    await txn.commit()
    emit({ ev: 'committed' })
  } finally {
    await producer.disconnect()
  }
  return {}
})
