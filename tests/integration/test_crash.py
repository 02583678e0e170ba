"""Crash test: acknowledged means durable, through repeated SIGKILLs.

A confluent-kafka producer (acks=all, idempotence off, retries on) sends 200,000 numbered
messages to a 2-partition topic while another thread SIGKILLs the broker several times and
restarts it on the same port and data directory. Afterwards the whole topic is read back.

What Kafka guarantees a non-idempotent producer, and so what is asserted:
  * an acknowledged message is durable: the record at the (partition, offset) its delivery report
    named holds exactly that message -> acknowledged-but-lost must be 0;
  * with max.in.flight.requests.per.connection=1, retries cannot reorder: per partition the
    acknowledged messages appear in the order they were sent;
  * duplicates are allowed (at-least-once): a request the broker persisted but could not answer
    before it was killed is retried and written again. The earlier copy was never acknowledged,
    so a duplicate of an acknowledged message can only sit *before* its acknowledged offset; a
    copy after it would mean the broker wrote something the producer never re-sent.
  * offsets stay dense (0..high watermark-1) and every record is one the test sent, in the
    partition it was sent to.
The summary line `acknowledged=N lost=0 duplicates=D` is printed to the terminal.
"""

import time
from array import array

from confluent_kafka import Consumer, Producer, TopicPartition

from tern_helpers import RDKAFKA_LOGGER, BrokerKiller, create_topic, unique_topic, watermarks

N = 200_000
PARTITIONS = 2
KILL_FRACTIONS = (0.12, 0.30, 0.50, 0.70, 0.85)  # acknowledged fraction at which to kill
PRODUCE_SECONDS = 30.0        # pacing, so kills land mid-stream
BUDGET_SECONDS = 300.0        # whole test
PAD = b"." * 40


def encode(seq: int) -> bytes:
    return b"%08d|" % seq + PAD


def decode(value: bytes) -> int:
    return int(value[:8])


def test_acknowledged_messages_survive_repeated_sigkill(broker_factory, capsys):
    start = time.monotonic()
    deadline = start + BUDGET_SECONDS
    b = broker_factory()
    topic = unique_topic("crash")
    create_topic(b.bootstrap, topic, partitions=PARTITIONS)

    acked_offset = array("q", [-1]) * N        # seq -> offset of its successful delivery
    reports = bytearray(N)                     # seq -> 1 once any delivery report arrived
    state = {"acked": 0, "failed": 0, "reports": 0, "errors": {}}

    def on_delivery(err, msg):
        seq = decode(msg.value())
        state["reports"] += 1
        reports[seq] = 1
        if err is None:
            acked_offset[seq] = msg.offset()
            state["acked"] += 1
        else:
            state["failed"] += 1
            state["errors"][str(err)] = state["errors"].get(str(err), 0) + 1

    p = Producer({
        "bootstrap.servers": b.bootstrap,
        "acks": "all",
        "enable.idempotence": False,
        "max.in.flight.requests.per.connection": 1,
        "message.send.max.retries": 1_000_000,
        "retry.backoff.ms": 100,
        "message.timeout.ms": 150_000,
        "request.timeout.ms": 30_000,
        "linger.ms": 5,
        "batch.num.messages": 2000,
        "queue.buffering.max.messages": 100_000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "compression.type": "none",
        "logger": RDKAFKA_LOGGER,
    })

    killer = BrokerKiller(b, lambda: state["acked"], N, KILL_FRACTIONS, deadline,
                          seed=42).start()
    try:
        t0 = time.monotonic()
        for seq in range(N):
            while True:
                try:
                    p.produce(topic, value=encode(seq), partition=seq % PARTITIONS,
                              on_delivery=on_delivery)
                    break
                except BufferError:
                    assert time.monotonic() < deadline, "producer queue stayed full"
                    p.poll(0.05)
            if seq % 500 == 0:
                p.poll(0)
                if killer.errors:
                    break
                ahead = t0 + PRODUCE_SECONDS * seq / N - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        while len(p) > 0 and time.monotonic() < deadline - 30 and not killer.errors:
            p.flush(1.0)
        assert not killer.errors, f"killer thread failed: {killer.errors[0]!r}"
        assert len(p) == 0, f"{len(p)} messages still in flight at the deadline"
    finally:
        killer.stop()
    assert not killer.errors, f"killer thread failed: {killer.errors[0]!r}"
    assert not killer.is_alive(), "killer thread did not finish"
    b.assert_alive()

    assert state["reports"] == N, f"{N - state['reports']} messages got no delivery report"
    mid_stream_kills = [k for k in killer.kills if k[0] < N]
    assert len(mid_stream_kills) >= 3, \
        f"only {len(killer.kills)} kills happened mid-stream: {killer.kills}"
    assert state["failed"] == 0, \
        f"{state['failed']} deliveries failed despite unlimited retries: {state['errors']}"

    # ---- read everything back ---------------------------------------------------------------
    logs = {}
    for part in range(PARTITIONS):
        low, high = watermarks(b.bootstrap, topic, part)
        assert low == 0, f"partition {part}: log start moved to {low}"
        logs[part] = read_values(b.bootstrap, topic, part, high, deadline)

    # ---- analyse ----------------------------------------------------------------------------
    lost_at_offset = 0       # acknowledged, but its offset holds something else or nothing
    lost_anywhere = 0        # acknowledged, and not in the log at all
    out_of_order = 0         # acknowledged messages out of send order within a partition
    late_duplicates = 0      # a copy after the acknowledged offset
    duplicates = 0           # extra copies of any message
    examples = []
    for part, log in logs.items():
        seen_at = {}
        for off, seq in enumerate(log):
            assert 0 <= seq < N and seq % PARTITIONS == part, \
                f"partition {part} offset {off}: foreign record {seq}"
            if seq in seen_at:
                duplicates += 1
            seen_at.setdefault(seq, []).append(off)
        last_seq = -1
        for seq in range(part, N, PARTITIONS):
            off = acked_offset[seq]
            if off < 0:
                continue
            if off >= len(log) or log[off] != seq:
                lost_at_offset += 1
                if len(examples) < 5:
                    examples.append(f"seq {seq} acked at {part}/{off}, log has "
                                    f"{log[off] if off < len(log) else 'nothing'}")
            if seq not in seen_at:
                lost_anywhere += 1
            else:
                late_duplicates += sum(1 for o in seen_at[seq] if o > off)
        acked_by_offset = sorted((acked_offset[s], s) for s in range(part, N, PARTITIONS)
                                 if acked_offset[s] >= 0)
        for _off, seq in acked_by_offset:
            if seq < last_seq:
                out_of_order += 1
            last_seq = seq

    acknowledged = state["acked"]
    with capsys.disabled():
        print(f"\ncrash test: acknowledged={acknowledged} lost={lost_at_offset} "
              f"duplicates={duplicates} (kills={len(killer.kills)}, late_duplicates={late_duplicates}, "
              f"out_of_order={out_of_order}, records={sum(map(len, logs.values()))}, "
              f"{time.monotonic() - start:.0f}s)")
    assert lost_anywhere == 0, f"{lost_anywhere} acknowledged messages are missing entirely"
    assert lost_at_offset == 0, f"{lost_at_offset} acknowledged messages are not at their " \
                                f"acknowledged offset: {examples}"
    assert out_of_order == 0, f"{out_of_order} acknowledged messages out of order"
    assert late_duplicates == 0, f"{late_duplicates} copies written after their acknowledgement"


def read_values(bootstrap, topic, partition, high, deadline):
    """The seq of every record at offsets 0..high-1, checking offsets are dense."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_topic("crash-read"),
                  "enable.auto.commit": False, "check.crcs": True,
                  "fetch.max.bytes": 16 << 20, "max.partition.fetch.bytes": 8 << 20,
                  "logger": RDKAFKA_LOGGER})
    out = []
    try:
        c.assign([TopicPartition(topic, partition, 0)])
        while len(out) < high:
            assert time.monotonic() < deadline, \
                f"reading {topic}/{partition}: {len(out)} of {high} records before the deadline"
            for m in c.consume(num_messages=10000, timeout=1.0):
                assert not m.error(), f"consumer error: {m.error()}"
                assert m.offset() == len(out), \
                    f"{topic}/{partition}: expected offset {len(out)}, got {m.offset()}"
                out.append(decode(m.value()))
    finally:
        c.close()
    return out
