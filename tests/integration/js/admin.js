// Runs a list of kafkajs admin calls in order and reports each one's result or error:
//   {"broker": ..., "ops": [{"op": "createTopics", "args": [{...}]}, ...]}
// "args" are the method's positional arguments. Every op is reported as
//   {"op": ..., "ok": true, "value": <return value>} or {"op": ..., "ok": false, "error": ...}
// and a failing op does not stop the later ones.
'use strict'

const { kafka, emit, run, describeError, errorTypes } = require('./common')

run(async opts => {
  const admin = kafka(opts).admin()
  await admin.connect()
  const results = []
  try {
    for (const { op, args = [] } of opts.ops) {
      if (typeof admin[op] !== 'function') throw new Error(`no admin method ${op}`)
      const started = Date.now()
      let r
      try {
        const value = await admin[op](...args)
        r = { op, ok: true, value: value === undefined ? null : value }
      } catch (e) {
        const error = describeError(e)
        r = { op, ok: false, error, errorTypes: errorTypes(error) }
      }
      r.ms = Date.now() - started
      emit({ ev: 'op', ...r })
      results.push(r)
    }
  } finally {
    await admin.disconnect()
  }
  return { results }
})
