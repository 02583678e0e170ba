// Connects to the broker the way every kafkajs client does (ApiVersions, v2 first) and reports,
// per API key, the broker's advertised range as kafkajs decoded it, the versions this kafkajs
// implements, and the version kafkajs will send (the highest both support; lib/protocol/requests
// lookup()). Uses kafkajs internals (Broker, ConnectionPool): kafkajs is pinned exactly in
// package.json, so these paths are stable.
//   {"broker"}
'use strict'

const Broker = require('kafkajs/src/broker')
const ConnectionPool = require('kafkajs/src/network/connectionPool')
const socketFactory = require('kafkajs/src/network/socketFactory')
const { createLogger, LEVELS } = require('kafkajs/src/loggers')
const { requests } = require('kafkajs/src/protocol/requests')
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys')
const { run } = require('./common')

run(async opts => {
  const [host, port] = opts.broker.split(':')
  const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} })
  const connectionPool = new ConnectionPool({
    host,
    port: Number(port),
    logger,
    socketFactory: socketFactory(),
    clientId: 'tern-it-kafkajs-versions',
    connectionTimeout: 5000,
    requestTimeout: 15000,
  })
  const broker = new Broker({ connectionPool, logger })
  await broker.connect()
  const apis = {}
  for (const [name, key] of Object.entries(apiKeys)) {
    const implemented = (requests[name] || { versions: [] }).versions.map(Number)
    const advertised = broker.versions[key] || null
    let sends = null
    if (advertised && implemented.length) {
      sends = Math.min(Math.max(...implemented), advertised.maxVersion)
    }
    apis[key] = { name, implemented, advertised, sends }
  }
  await broker.disconnect()
  return { apis }
})
