"""Idempotent producer (KIP-98 without transactions): InitProducerId and the produce path's
sequence checks, against the rules of src/broker/producer_state.h and
docs/formats/producer-state.md.

  * test_chaos_proxy_*: librdkafka (enable.idempotence=true, acks=all) sends 100,000 numbered
    messages through chaos_proxy.py, which drops connections mid-request and swallows Produce
    responses the broker already sent (so the client retries batches that are in the log).
    Every message must be delivered, and stored exactly once, in send order, at the offset its
    delivery report named. Prints `idempotence: sent=... duplicates=0 out_of_order=0 ...`.
  * test_init_producer_id_*, test_sequence_*: raw wire (kafka_wire.py) checks of each rule:
    duplicate -> same base offset and nothing appended, gap/overlap/too-old retry -> 45,
    fenced epoch -> 47, new epoch not at sequence 0 -> 45, negative epoch/sequence -> 87,
    unknown producer -> appended (KIP-360), non-idempotent batches never deduplicated.
  * test_producer_state_survives_restart[...]: after a SIGTERM restart, a SIGKILL, and a
    SIGKILL after a snapshot was written, a retry is still a duplicate, a gap is still refused,
    the next sequence is accepted; InitProducerId never repeats a pre-restart id.
  * test_idempotent_producer_survives_sigkill: like test_crash.py with enable.idempotence=true:
    acknowledged messages exactly once and in order per partition. Prints
    `idempotent crash test: acknowledged=N lost=0 duplicates=0 ...`.
"""

from __future__ import annotations

import time
from array import array

import pytest
from confluent_kafka import Producer

import kafka_wire as w
from chaos_proxy import ChaosProxy
from tern_helpers import RDKAFKA_LOGGER, BrokerKiller, create_topic, free_port, unique_topic

PROXY_HOST = "127.0.0.2"  # all of 127/8 is loopback on Linux: same port, other address


def encode(seq: int) -> bytes:
    return b"%08d|idem" % seq


def decode(value: bytes) -> int:
    return int(value[:8])


def produce(conn, topic, partition, batch) -> w.ProducePartitionResult:
    return w.produce_v3(conn, topic, partition, batch, acks=-1)


def vals(prefix: str, n: int):
    return [f"{prefix}-{i}".encode() for i in range(n)]


# --------------------------------------------------------------------------------------------
# Analysis shared by the two librdkafka tests.
def analyse(logs, n, partitions, acked_offset):
    """logs: partition -> list of FetchedRecord in offset order. Returns a dict of counts and
    a few examples of each problem."""
    out = {"stored": 0, "duplicates": 0, "out_of_order": 0, "lost": 0, "missing": 0,
           "foreign": 0, "examples": []}
    present = bytearray(n)
    for part, recs in logs.items():
        last = -1
        for rec in recs:
            seq = decode(rec.value)
            if not (0 <= seq < n) or seq % partitions != part:
                out["foreign"] += 1
                out["examples"].append(f"foreign record {seq} at {part}/{rec.offset}")
                continue
            if present[seq]:
                out["duplicates"] += 1
                if len(out["examples"]) < 10:
                    out["examples"].append(f"duplicate of {seq} at {part}/{rec.offset}")
            else:
                present[seq] = 1
                out["stored"] += 1
            if seq < last:
                out["out_of_order"] += 1
                if len(out["examples"]) < 10:
                    out["examples"].append(f"{seq} after {last} at {part}/{rec.offset}")
            last = max(last, seq)
        at = {rec.offset: decode(rec.value) for rec in recs}
        for seq in range(part, n, partitions):
            off = acked_offset[seq]
            if off < 0:
                continue
            if at.get(off) != seq:
                out["lost"] += 1
                if len(out["examples"]) < 10:
                    out["examples"].append(f"{seq} acknowledged at {part}/{off}, log has "
                                           f"{at.get(off)}")
    out["missing"] = n - out["stored"]
    return out


def read_logs(bootstrap, topic, partitions, timeout):
    logs = {}
    for part in range(partitions):
        recs, high = w.read_partition_records(bootstrap, topic, part, 0, timeout=timeout)
        assert len(recs) == high, f"{topic}/{part}: {len(recs)} records below hw {high}"
        assert [r.offset for r in recs] == list(range(high)), f"{topic}/{part}: offsets not dense"
        logs[part] = recs
    return logs


def produce_paced(p, topic, n, partitions, seconds, on_delivery, deadline, stop=lambda: False):
    t0 = time.monotonic()
    for seq in range(n):
        while True:
            try:
                p.produce(topic, value=encode(seq), partition=seq % partitions,
                          on_delivery=on_delivery)
                break
            except BufferError:
                assert time.monotonic() < deadline, "producer queue stayed full"
                p.poll(0.05)
        if seq % 500 == 0:
            p.poll(0)
            if stop():
                return
            ahead = t0 + seconds * seq / n - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)


# --------------------------------------------------------------------------------------------
# 1. librdkafka through a chaos proxy.
CHAOS_N = 100_000
CHAOS_PARTITIONS = 2
CHAOS_PRODUCE_SECONDS = 20.0
CHAOS_BUDGET_SECONDS = 150.0


def test_chaos_proxy_retries_never_duplicate_or_reorder(broker_factory, capsys):
    start = time.monotonic()
    deadline = start + CHAOS_BUDGET_SECONDS
    port = free_port()
    b = broker_factory(extra_args=["--advertised-host", PROXY_HOST], port=port)
    topic = unique_topic("idem-chaos")
    proxy = ChaosProxy(listen=(PROXY_HOST, port), target=("127.0.0.1", port), seed=20240611,
                       swallow_probability=0.06, max_swallows=40,
                       drop_probability=0.03, max_drops=20)
    proxy.enabled = False  # no faults while the topic is created
    proxy.start()
    try:
        create_topic(f"{PROXY_HOST}:{port}", topic, partitions=CHAOS_PARTITIONS)

        acked_offset = array("q", [-1]) * CHAOS_N
        state = {"acked": 0, "failed": 0, "reports": 0, "errors": {}, "client_errors": []}

        def on_delivery(err, msg):
            seq = decode(msg.value())
            state["reports"] += 1
            if err is None:
                acked_offset[seq] = msg.offset()
                state["acked"] += 1
            else:
                state["failed"] += 1
                state["errors"][str(err)] = state["errors"].get(str(err), 0) + 1

        def on_error(err):
            state["client_errors"].append(err)

        p = Producer({
            "bootstrap.servers": f"{PROXY_HOST}:{port}",
            "enable.idempotence": True,
            "acks": "all",
            "max.in.flight.requests.per.connection": 5,
            "message.send.max.retries": 1_000_000,
            "retry.backoff.ms": 50,
            "message.timeout.ms": 120_000,
            "request.timeout.ms": 30_000,
            "socket.timeout.ms": 30_000,
            "linger.ms": 20,
            "batch.num.messages": 1000,
            "queue.buffering.max.messages": 200_000,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
            "compression.type": "none",
            "error_cb": on_error,
            "logger": RDKAFKA_LOGGER,
        })
        proxy.enabled = True
        produce_paced(p, topic, CHAOS_N, CHAOS_PARTITIONS, CHAOS_PRODUCE_SECONDS, on_delivery,
                      deadline)
        while len(p) > 0 and time.monotonic() < deadline - 20:
            p.flush(1.0)
        left = len(p)
    finally:
        proxy.stop()
    b.assert_alive()
    fatal = [str(e) for e in state["client_errors"] if e.fatal()]

    # Read straight from the broker (127.0.0.1), not through the proxy.
    logs = read_logs(b.bootstrap, topic, CHAOS_PARTITIONS,
                     timeout=max(deadline - time.monotonic(), 30))
    a = analyse(logs, CHAOS_N, CHAOS_PARTITIONS, acked_offset)
    # Retries that reached the broker: batches forwarded whole more than once, and among them
    # those whose first answer the proxy swallowed (the broker had appended them).
    resent = sum(1 for k, n in proxy.batches_forwarded.items() if n > 1 and k[0] == topic)
    swallowed_resent = sum(1 for k in proxy.swallowed_batches
                           if k[0] == topic and proxy.batches_forwarded.get(k, 0) > 1)
    distinct_batches = sum(1 for k in proxy.batches_forwarded if k[0] == topic)
    with capsys.disabled():
        print(f"\nidempotence: sent={CHAOS_N} delivered={state['acked']} stored={a['stored']} "
              f"duplicates={a['duplicates']} out_of_order={a['out_of_order']} "
              f"proxy_drops={proxy.drops} swallowed_responses={proxy.swallowed} "
              f"(retried_batches_at_broker={resent}, "
              f"swallowed_batches={len(proxy.swallowed_batches)}, "
              f"of_them_resent={swallowed_resent}, "
              f"distinct_batches={distinct_batches}, failed={state['failed']}, lost={a['lost']}, "
              f"connections={proxy.connections}, requests={proxy.requests}, "
              f"{time.monotonic() - start:.0f}s)")
    assert not proxy.errors, f"proxy thread errors: {proxy.errors[:5]}"
    assert left == 0, f"{left} messages still in flight at the deadline"
    assert not fatal, f"fatal producer errors: {fatal}"
    assert state["reports"] == CHAOS_N, f"{CHAOS_N - state['reports']} delivery reports missing"
    assert state["failed"] == 0, f"{state['failed']} deliveries failed: {state['errors']}"
    assert proxy.swallowed > 0, "the proxy swallowed no response: the test proved nothing"
    assert proxy.drops > 0, "the proxy dropped no connection mid-request"
    assert proxy.unparsed_produce == 0, "the proxy could not parse some Produce requests"
    assert swallowed_resent > 0, \
        "no batch whose response was swallowed was sent to the broker again: no retry tested"
    assert a["foreign"] == 0, a["examples"]
    assert a["duplicates"] == 0, f"{a['duplicates']} duplicates: {a['examples']}"
    assert a["out_of_order"] == 0, f"{a['out_of_order']} out of order: {a['examples']}"
    assert a["lost"] == 0, f"{a['lost']} not at their acknowledged offset: {a['examples']}"
    assert a["stored"] == CHAOS_N, f"{a['missing']} messages missing: {a['examples']}"


# --------------------------------------------------------------------------------------------
# 2. Raw wire: InitProducerId and each sequence rule.
@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_init_producer_id_versions(broker, version):
    with w.KafkaConn.to(broker.bootstrap) as c:
        got = [w.init_producer_id(c, version) for _ in range(3)]
    for r in got:
        assert r.error_code == w.NONE, r
        assert r.producer_id >= 0 and r.producer_epoch == 0, r
    ids = [r.producer_id for r in got]
    assert len(set(ids)) == 3, f"InitProducerId v{version} repeated an id: {ids}"


def test_init_producer_id_distinct_across_versions_and_connections(broker):
    ids = []
    for version in (0, 2, 4, 1, 3):
        with w.KafkaConn.to(broker.bootstrap) as c:
            ids += [w.init_producer_id(c, version).producer_id for _ in range(2)]
    assert len(set(ids)) == len(ids), f"repeated producer ids: {ids}"
    with w.KafkaConn.to(broker.bootstrap) as c:
        # v3+: naming the current id and epoch (KIP-360 epoch bump) gives a fresh id, epoch 0.
        r = w.init_producer_id(c, 4, producer_id=ids[-1], producer_epoch=0)
        assert r.error_code == w.NONE and r.producer_epoch == 0 and r.producer_id not in ids, r
        # No transaction coordinator: a transactional id is refused, not half-served.
        t = w.init_producer_id(c, 0, transactional_id="tx-1")
        assert t.error_code == w.COORDINATOR_NOT_AVAILABLE and t.producer_id == -1, t


def test_sequence_rules(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with w.KafkaConn.to(broker.bootstrap) as c:
        pid = w.init_producer_id(c, 2).producer_id
        end0 = w.log_end(c, topic_name, 0)

        # seq 0..2 appended at B; an exact retry answers B and appends nothing.
        a = w.idempotent_batch(pid, 0, 0, vals("a", 3))
        r = produce(c, topic_name, 0, a)
        assert r.error_code == w.NONE, r
        base = r.base_offset
        assert base == end0 and w.log_end(c, topic_name, 0) == base + 3
        r2 = produce(c, topic_name, 0, a)
        assert (r2.error_code, r2.base_offset) == (w.NONE, base), \
            f"retry of seq 0-2: {r2}, expected success at the original base offset {base}"
        assert w.log_end(c, topic_name, 0) == base + 3, "a duplicate was appended"

        # seq 3..4 follows.
        b3 = w.idempotent_batch(pid, 0, 3, vals("b", 2))
        r = produce(c, topic_name, 0, b3)
        assert (r.error_code, r.base_offset) == (w.NONE, base + 3), r
        # Retries of both kept batches, the older one too.
        assert produce(c, topic_name, 0, a).base_offset == base
        assert produce(c, topic_name, 0, b3).base_offset == base + 3
        end = base + 5
        assert w.log_end(c, topic_name, 0) == end

        # Gap: seq 10 after 4.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 0, 10, vals("gap", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        # Overlap that is not a kept batch: seq 4..5.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 0, 4, vals("ovl", 2)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        # Same first sequence as a kept batch but a different length: not a duplicate.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 0, 0, vals("a", 2)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        assert w.log_end(c, topic_name, 0) == end, "a refused batch was appended"

        # Two batches in one request, in sequence: both appended.
        two = w.idempotent_batch(pid, 0, 5, vals("c", 1)) + w.idempotent_batch(pid, 0, 6,
                                                                                 vals("d", 2))
        r = produce(c, topic_name, 0, two)
        assert (r.error_code, r.base_offset) == (w.NONE, end), r
        end += 3
        # ... and retried whole: duplicate, first batch's offset.
        r = produce(c, topic_name, 0, two)
        assert (r.error_code, r.base_offset) == (w.NONE, end - 3), r
        # A duplicate mixed with a new batch: refused whole (documented deviation from Kafka).
        mixed = w.idempotent_batch(pid, 0, 6, vals("d", 2)) + w.idempotent_batch(pid, 0, 8,
                                                                                   vals("e", 1))
        r = produce(c, topic_name, 0, mixed)
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        assert w.log_end(c, topic_name, 0) == end

        # Epoch 1 must start at sequence 0 ...
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 1, 8, vals("e1", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        e1 = w.idempotent_batch(pid, 1, 0, vals("e1", 2))
        r = produce(c, topic_name, 0, e1)
        assert (r.error_code, r.base_offset) == (w.NONE, end), r
        end += 2
        # ... and then fences epoch 0: a new batch and an exact retry of an old one alike.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 0, 8, vals("old", 1)))
        assert r.error_code == w.INVALID_PRODUCER_EPOCH, r
        r = produce(c, topic_name, 0, b3)
        assert r.error_code == w.INVALID_PRODUCER_EPOCH, r
        # A higher epoch not starting at 0.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 3, 2, vals("e3", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        # Epoch 1 continues.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 1, 2, vals("e1b", 1)))
        assert (r.error_code, r.base_offset) == (w.NONE, end), r
        end += 1

        # producerId >= 0 with a negative sequence or epoch: INVALID_RECORD.
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, 1, -1, vals("neg", 1)))
        assert r.error_code == w.INVALID_RECORD, r
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, -1, 3, vals("neg", 1)))
        assert r.error_code == w.INVALID_RECORD, r
        r = produce(c, topic_name, 0, w.idempotent_batch(pid, -1, -1, vals("neg", 1)))
        assert r.error_code == w.INVALID_RECORD, r
        assert w.log_end(c, topic_name, 0) == end, "a refused batch was appended"

        # Producer id -1: no state, every send appended, retries included.
        plain = w.idempotent_batch(-1, -1, -1, vals("plain", 1))
        assert produce(c, topic_name, 0, plain).base_offset == end
        assert produce(c, topic_name, 0, plain).base_offset == end + 1
        end += 2

        # An unknown producer id with a sequence other than 0 is accepted (KIP-360, as Kafka
        # >= 2.5), and from then on it is known.
        stranger = pid + 1_000_000
        s5 = w.idempotent_batch(stranger, 0, 5, vals("s", 1))
        r = produce(c, topic_name, 0, s5)
        assert (r.error_code, r.base_offset) == (w.NONE, end), r
        assert produce(c, topic_name, 0, s5).base_offset == end
        r = produce(c, topic_name, 0, w.idempotent_batch(stranger, 0, 7, vals("s", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        end += 1
        assert w.log_end(c, topic_name, 0) == end

    recs, high = w.read_partition_records(broker.bootstrap, topic_name, 0)
    assert high == end
    assert [r.value for r in recs] == (vals("a", 3) + vals("b", 2) + vals("c", 1) +
                                       vals("d", 2) + vals("e1", 2) + vals("e1b", 1) +
                                       vals("plain", 1) * 2 + vals("s", 1))
    assert [(r.producer_id, r.producer_epoch, r.sequence) for r in recs[:11]] == \
        [(pid, 0, s) for s in range(8)] + [(pid, 1, 0), (pid, 1, 1), (pid, 1, 2)]


def test_sequence_only_last_five_batches_are_duplicates(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with w.KafkaConn.to(broker.bootstrap) as c:
        pid = w.init_producer_id(c, 0).producer_id
        batches = [w.idempotent_batch(pid, 0, 2 * i, vals(f"k{i}", 2)) for i in range(7)]
        bases = []
        for bt in batches:
            r = produce(c, topic_name, 0, bt)
            assert r.error_code == w.NONE, r
            bases.append(r.base_offset)
        end = w.log_end(c, topic_name, 0)
        # The 5 newest are answered as duplicates, with their own offsets.
        for i in range(2, 7):
            r = produce(c, topic_name, 0, batches[i])
            assert (r.error_code, r.base_offset) == (w.NONE, bases[i]), (i, r)
        # Older ones are out of order (Kafka >= 2.x never sends DUPLICATE_SEQUENCE_NUMBER).
        for i in range(2):
            r = produce(c, topic_name, 0, batches[i])
            assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, (i, r)
        assert w.log_end(c, topic_name, 0) == end


# --------------------------------------------------------------------------------------------
# 3. Producer state across restarts.
@pytest.mark.parametrize("how", ["sigterm", "sigkill", "sigkill-after-snapshot"])
def test_producer_state_survives_restart(broker_factory, how):
    b = broker_factory()
    topic = unique_topic(f"idem-restart-{how}")
    create_topic(b.bootstrap, topic, partitions=2)
    with w.KafkaConn.to(b.bootstrap) as c:
        ids_before = [w.init_producer_id(c, v).producer_id for v in (0, 2, 4)]
        pid = ids_before[0]
        other = w.idempotent_batch(-1, -1, -1, vals("filler", 4))
        assert produce(c, topic, 0, other).error_code == w.NONE  # base offsets != 0
        first = w.idempotent_batch(pid, 0, 0, vals("r", 3))
        r = produce(c, topic, 0, first)
        assert r.error_code == w.NONE
        base_first = r.base_offset
        p1 = w.idempotent_batch(pid, 0, 0, vals("p1", 2))
        assert produce(c, topic, 1, p1).error_code == w.NONE
    if how == "sigkill-after-snapshot":
        b.restart()  # a clean stop writes a snapshot; the batch below is only in the log
    with w.KafkaConn.to(b.bootstrap) as c:
        last = w.idempotent_batch(pid, 0, 3, vals("r2", 2))
        r = produce(c, topic, 0, last)
        assert r.error_code == w.NONE
        base_last = r.base_offset
        end = w.log_end(c, topic, 0)
        assert end == base_last + 2

    if how == "sigterm":
        b.restart()
    else:
        b.kill()
        b.start()

    with w.KafkaConn.to(b.bootstrap) as c:
        assert w.log_end(c, topic, 0) == end, "the log lost or gained records in the restart"
        r = produce(c, topic, 0, last)
        assert (r.error_code, r.base_offset) == (w.NONE, base_last), \
            f"retry of seq 3-4 after {how}: {r}, expected a duplicate at {base_last}"
        r = produce(c, topic, 0, first)
        assert (r.error_code, r.base_offset) == (w.NONE, base_first), \
            f"retry of seq 0-2 after {how}: {r}, expected a duplicate at {base_first}"
        assert w.log_end(c, topic, 0) == end, "a retry after the restart was appended again"
        # The state is really known (an unknown producer's gap would be accepted).
        r = produce(c, topic, 0, w.idempotent_batch(pid, 0, 9, vals("gap", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        r = produce(c, topic, 1, p1)
        assert r.error_code == w.NONE and r.base_offset == 0, r
        r = produce(c, topic, 1, w.idempotent_batch(pid, 0, 5, vals("gap", 1)))
        assert r.error_code == w.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        # The next sequence is accepted.
        r = produce(c, topic, 0, w.idempotent_batch(pid, 0, 5, vals("r3", 1)))
        assert (r.error_code, r.base_offset) == (w.NONE, end), r
        ids_after = [w.init_producer_id(c, v).producer_id for v in (0, 2, 4)]
    assert not set(ids_after) & set(ids_before), \
        f"InitProducerId after {how} repeated an id: before {ids_before}, after {ids_after}"
    assert min(ids_after) > max(ids_before), (ids_before, ids_after)
    recs, _ = w.read_partition_records(b.bootstrap, topic, 0)
    assert [r.value for r in recs] == vals("filler", 4) + vals("r", 3) + vals("r2", 2) + \
        vals("r3", 1)


# --------------------------------------------------------------------------------------------
# 4. librdkafka idempotent producer through SIGKILLs of the broker.
CRASH_N = 50_000
CRASH_PARTITIONS = 2
KILL_FRACTIONS = (0.2, 0.45, 0.7)
CRASH_PRODUCE_SECONDS = 15.0
CRASH_BUDGET_SECONDS = 120.0


def test_idempotent_producer_survives_sigkill(broker_factory, capsys):
    start = time.monotonic()
    deadline = start + CRASH_BUDGET_SECONDS
    b = broker_factory()
    topic = unique_topic("idem-crash")
    create_topic(b.bootstrap, topic, partitions=CRASH_PARTITIONS)

    acked_offset = array("q", [-1]) * CRASH_N
    state = {"acked": 0, "failed": 0, "reports": 0, "errors": {}, "client_errors": []}

    def on_delivery(err, msg):
        seq = decode(msg.value())
        state["reports"] += 1
        if err is None:
            acked_offset[seq] = msg.offset()
            state["acked"] += 1
        else:
            state["failed"] += 1
            state["errors"][str(err)] = state["errors"].get(str(err), 0) + 1

    p = Producer({
        "bootstrap.servers": b.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "message.send.max.retries": 1_000_000,
        "retry.backoff.ms": 100,
        "message.timeout.ms": 100_000,
        "request.timeout.ms": 30_000,
        "linger.ms": 5,
        "batch.num.messages": 1000,
        "queue.buffering.max.messages": 100_000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "compression.type": "none",
        "error_cb": lambda err: state["client_errors"].append(err),
        "logger": RDKAFKA_LOGGER,
    })

    killer = BrokerKiller(b, lambda: state["acked"], CRASH_N, KILL_FRACTIONS, deadline,
                          seed=4242).start()
    try:
        produce_paced(p, topic, CRASH_N, CRASH_PARTITIONS, CRASH_PRODUCE_SECONDS, on_delivery,
                      deadline, stop=lambda: bool(killer.errors))
        while len(p) > 0 and time.monotonic() < deadline - 20 and not killer.errors:
            p.flush(1.0)
        left = len(p)
    finally:
        killer.stop()
    assert not killer.errors, f"killer thread failed: {killer.errors[0]!r}"
    assert not killer.is_alive(), "killer thread did not finish"
    b.assert_alive()

    logs = read_logs(b.bootstrap, topic, CRASH_PARTITIONS,
                     timeout=max(deadline - time.monotonic(), 30))
    a = analyse(logs, CRASH_N, CRASH_PARTITIONS, acked_offset)
    fatal = [str(e) for e in state["client_errors"] if e.fatal()]
    with capsys.disabled():
        print(f"\nidempotent crash test: acknowledged={state['acked']} lost={a['lost']} "
              f"duplicates={a['duplicates']} (kills={len(killer.kills)}, failed={state['failed']}, "
              f"out_of_order={a['out_of_order']}, stored={a['stored']}, "
              f"records={sum(map(len, logs.values()))}, {time.monotonic() - start:.0f}s)")
    assert left == 0, f"{left} messages still in flight at the deadline"
    assert state["reports"] == CRASH_N, f"{CRASH_N - state['reports']} delivery reports missing"
    assert len([k for k in killer.kills if k[0] < CRASH_N]) >= 2, \
        f"too few mid-stream kills: {killer.kills}"
    assert a["foreign"] == 0, a["examples"]
    assert a["lost"] == 0, f"{a['lost']} acknowledged messages not at their offset: " \
                           f"{a['examples']}"
    assert a["duplicates"] == 0, f"{a['duplicates']} duplicates: {a['examples']}"
    assert a["out_of_order"] == 0, f"{a['out_of_order']} out of order: {a['examples']}"
    assert not fatal, f"fatal producer errors: {fatal}"
    assert state["failed"] == 0, \
        f"{state['failed']} deliveries failed despite unlimited retries: {state['errors']}"
