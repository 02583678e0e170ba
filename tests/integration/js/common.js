// Shared by the kafkajs scripts that tests/integration/test_kafkajs.py runs against a real
// `tern serve`. Every script takes one JSON object as its only argument (or in $TERN_JS_ARGS):
//   {"broker": "127.0.0.1:9092", "topic": "...", ...script options}
// ($TERN_JS_BROKER is used when "broker" is missing). It writes JSON lines to stdout: events
// ({"ev": "..."}) while it runs and exactly one {"ev": "result", ...} at the end. kafkajs's own
// log goes to stderr as JSON lines, so stdout stays parseable.
'use strict'

// kafkajs 2 warns on every producer that its default partitioner changed in 2.0.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel } = require('kafkajs')

function options() {
  const raw = process.argv[2] || process.env.TERN_JS_ARGS || '{}'
  const opts = JSON.parse(raw)
  opts.broker = opts.broker || process.env.TERN_JS_BROKER
  if (!opts.broker) {
    throw new Error('no broker: pass {"broker": "host:port"} or set TERN_JS_BROKER')
  }
  return opts
}

// Buffers (e.g. group member metadata) as hex, so results are plain JSON.
function replacer(_key, value) {
  if (value && value.type === 'Buffer' && Array.isArray(value.data)) {
    return { hex: Buffer.from(value.data).toString('hex') }
  }
  if (typeof value === 'bigint') return value.toString()
  return value
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj, replacer) + '\n')
}

// A kafkajs error (and the errors it wraps) as plain JSON: name, message, the protocol error
// type and code when there is one, retriable.
function describeError(e) {
  if (!e) return null
  const out = {
    name: e.name,
    message: e.message,
    type: e.type,
    code: e.code,
    retriable: e.retriable,
  }
  const inner = e.originalError || e.cause
  if (inner && inner !== e) out.cause = describeError(inner)
  if (Array.isArray(e.errors)) out.errors = e.errors.map(describeError)
  // KafkaJSDeleteGroupsError: one entry per group.
  if (Array.isArray(e.groups)) {
    out.groups = e.groups.map(g => ({ groupId: g.groupId, errorCode: g.errorCode }))
    out.errors = (out.errors || []).concat(e.groups.map(g => describeError(g.error)))
  }
  return out
}

// All protocol error types found anywhere in an error chain (for assertions in Python).
function errorTypes(d, acc = []) {
  if (!d) return acc
  if (d.type) acc.push(d.type)
  if (d.cause) errorTypes(d.cause, acc)
  for (const x of d.errors || []) errorTypes(x, acc)
  return acc
}

// Protocol error types (and codes) that kafkajs logged, e.g. while retrying: some failures
// (FindCoordinator) end in a generic kafkajs error that no longer carries the broker's error.
const loggedErrors = new Map()

function logCreator() {
  return ({ namespace, level, label, log }) => {
    const { message, ...extra } = log
    const err = extra.error
    if (err && typeof err === 'object' && err.type) loggedErrors.set(err.type, err.code)
    process.stderr.write(JSON.stringify({ level: label, namespace, message, ...extra }) + '\n')
  }
}

function kafka(opts, extra = {}) {
  return new Kafka({
    clientId: opts.clientId || 'tern-it-kafkajs',
    brokers: [opts.broker],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    logLevel: opts.logLevel === 'debug' ? logLevel.DEBUG : logLevel.WARN,
    logCreator,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000, ...(opts.retry || {}) },
    ...extra,
  })
}

// Runs main(opts); an exception becomes {"ev": "result", "ok": false, "error": ...} and exit 1.
// A watchdog ends the process after opts.maxRuntimeMs (default 60 s) so a hung client never
// outlives its test.
function run(main) {
  let opts
  try {
    opts = options()
  } catch (e) {
    emit({ ev: 'result', ok: false, error: describeError(e) })
    process.exit(2)
  }
  const watchdog = setTimeout(() => {
    emit({ ev: 'result', ok: false, error: { name: 'Watchdog', message: 'maxRuntimeMs exceeded' } })
    process.exit(3)
  }, opts.maxRuntimeMs || 60000)
  main(opts)
    .then(result => {
      emit({ ev: 'result', ok: true, ...result })
      clearTimeout(watchdog)
      process.exit(0)
    })
    .catch(e => {
      const error = describeError(e)
      emit({
        ev: 'result',
        ok: false,
        error,
        errorTypes: errorTypes(error),
        loggedErrors: Object.fromEntries(loggedErrors),
      })
      clearTimeout(watchdog)
      process.exit(1)
    })
}

module.exports = { kafka, emit, run, describeError, errorTypes }
