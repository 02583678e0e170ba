"""Producer and Consumer of python3-confluent-kafka 1.7.0 (librdkafka 2.0.2): every acks level
with every codec, the ways an assigned consumer can start (earliest, latest, an offset, a
timestamp), message size limits, topic auto-creation, and Fetch long polling."""

import threading
import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, TIMESTAMP_CREATE_TIME, KafkaError,
                             TopicPartition)

import kafka_wire as kw
from tern_helpers import (admin, consume_n, consume_none, consumer, create_topic,
                          find_bytes_on_disk, produce_all, produce_ok, producer, read_from,
                          unique_topic, wait_until, watermarks)

ACKS = ["all", "1", "0"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def sample_messages(n, base_ts, marker):
    """Messages exercising keys (some null), values (one empty, one null), headers (binary,
    repeated names, a null value, none at all) and explicit CreateTime timestamps."""
    msgs = []
    for i in range(n):
        key = None if i % 7 == 3 else f"key-{i % 5}".encode()
        if i == 4:
            value = b""
        elif i == 5:
            value = None
        else:
            value = f"{marker}|{i:06d}|".encode() * 8
        if i % 4 == 0:
            headers = []
        else:
            headers = [("seq", str(i).encode()), ("bin", bytes([0, 1, 2, 255])), ("seq", b"dup")]
            if i % 10 == 1:
                headers.append(("nullh", None))
        msgs.append(dict(partition=0, key=key, value=value, headers=headers,
                         timestamp=base_ts + i))
    return msgs


def assert_same_messages(got, sent, first_offset=0):
    assert len(got) == len(sent)
    for j, (g, s) in enumerate(zip(got, sent)):
        where = f"message {j} (offset {g.offset})"
        assert g.offset == first_offset + j, f"{where}: out of order"
        assert g.key == s["key"], f"{where}: key {g.key!r} != {s['key']!r}"
        assert g.value == s["value"], f"{where}: value {g.value!r:.60} != {s['value']!r:.60}"
        want_headers = s["headers"] or None
        got_headers = g.headers or None
        assert got_headers == want_headers, f"{where}: headers {got_headers} != {want_headers}"
        assert g.timestamp == (TIMESTAMP_CREATE_TIME, s["timestamp"]), \
            f"{where}: timestamp {g.timestamp} != CreateTime {s['timestamp']}"


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("acks", ACKS)
def test_produce_with_acks_and_codec_round_trips_messages_intact_and_in_order(
        shared_broker, acks, codec):
    t = unique_topic(f"pc-acks{acks}-{codec}")
    create_topic(shared_broker.bootstrap, t)
    base_ts = int(time.time() * 1000) - 60_000
    marker = f"tern-{t}"
    sent = sample_messages(300, base_ts, marker)
    p = producer(shared_broker.bootstrap, acks=acks, compression_type=codec,
                 enable_idempotence=False, linger_ms=20)
    reports = produce_all(p, t, sent)
    failed = [r for r in reports if r.error is not None]
    assert not failed, f"{len(failed)} delivery reports failed, first: {failed[0].error}"
    if acks != "0":
        # With acks the broker assigns the offsets the reports carry: 0..n-1 in send order.
        assert [r.offset for r in reports] == list(range(len(sent)))
    got = read_from(shared_broker.bootstrap, t, 0, OFFSET_BEGINNING, len(sent))
    assert_same_messages(got, sent)
    full_value = sent[1]["value"]
    on_disk = find_bytes_on_disk(shared_broker.data_dir, full_value)
    if codec == "none":
        assert on_disk, "uncompressed value not found under the data directory"
    else:
        assert not on_disk, f"{codec}: the value is stored uncompressed in {on_disk} " \
                            f"(client fell back to no compression - for lz4 librdkafka needs FindCoordinator v0 " \
                            f"advertised - or the broker recompressed)"


def test_consume_from_offset_end_sees_only_messages_produced_afterwards(shared_broker):
    t = unique_topic("pc-end")
    create_topic(shared_broker.bootstrap, t)
    produce_ok(shared_broker.bootstrap, t, [{"value": f"old-{i}".encode(), "partition": 0}
                                            for i in range(10)])
    c = consumer(shared_broker.bootstrap, enable_partition_eof=True)
    try:
        c.assign([TopicPartition(t, 0, OFFSET_END)])
        # The partition-EOF event says OFFSET_END was resolved and a fetch reached the end;
        # only then is it certain that what is produced next counts as "new".
        deadline = time.monotonic() + 15
        eof = None
        while eof is None:
            assert time.monotonic() < deadline, \
                "no partition EOF within 15s of assigning OFFSET_END (see the fetch tests)"
            for m in c.consume(num_messages=100, timeout=0.3):
                assert m.error() is not None, f"old message delivered from OFFSET_END: {m.value()}"
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                eof = m.offset()
        assert eof == 10, f"EOF reported at offset {eof}, the log end is 10"
        produce_ok(shared_broker.bootstrap, t, [{"value": f"new-{i}".encode(), "partition": 0}
                                                for i in range(5)])
        got = consume_n(c, 5)
        assert [(g.offset, g.value) for g in got] == [(10 + i, f"new-{i}".encode())
                                                      for i in range(5)]
        assert not consume_none(c, 1.0)
    finally:
        c.close()


def test_consume_from_offset_beginning_reads_everything(shared_broker):
    t = unique_topic("pc-begin")
    create_topic(shared_broker.bootstrap, t)
    produce_ok(shared_broker.bootstrap, t, [{"value": f"v{i}".encode(), "partition": 0}
                                            for i in range(25)])
    got = read_from(shared_broker.bootstrap, t, 0, OFFSET_BEGINNING, 25)
    assert [g.value for g in got] == [f"v{i}".encode() for i in range(25)]


@pytest.mark.parametrize("start", [0, 7, 19])
def test_consume_from_a_given_offset_starts_exactly_there(shared_broker, start):
    t = unique_topic("pc-offset")
    create_topic(shared_broker.bootstrap, t)
    # Several small batches so that some starts fall in the middle of a batch.
    for chunk in range(4):
        produce_ok(shared_broker.bootstrap, t, [{"value": f"v{chunk * 5 + i}".encode(),
                                                 "partition": 0} for i in range(5)])
    got = read_from(shared_broker.bootstrap, t, 0, start, 20 - start)
    assert [(g.offset, g.value) for g in got] == [(i, f"v{i}".encode()) for i in range(start, 20)]


def test_offsets_for_times_finds_first_offset_at_or_after_timestamp(shared_broker):
    t = unique_topic("pc-times")
    create_topic(shared_broker.bootstrap, t)
    base = int(time.time() * 1000) - 3_600_000
    for chunk in range(5):  # separate batches, so the time index has several entries
        produce_ok(shared_broker.bootstrap, t,
                   [{"value": f"v{chunk * 4 + i}".encode(), "partition": 0,
                     "timestamp": base + (chunk * 4 + i) * 1000} for i in range(4)])
    c = consumer(shared_broker.bootstrap)
    try:
        q = [TopicPartition(t, 0, base + 5500),     # between 5 and 6 -> 6
             ]
        res = c.offsets_for_times(q, timeout=10)
        assert res[0].error is None and res[0].offset == 6, res
        res = c.offsets_for_times([TopicPartition(t, 0, base + 9000)], timeout=10)
        assert res[0].offset == 9, "exact timestamp must map to its own offset"
        res = c.offsets_for_times([TopicPartition(t, 0, base - 10_000)], timeout=10)
        assert res[0].offset == 0, "a timestamp before everything maps to the first offset"
        res = c.offsets_for_times([TopicPartition(t, 0, base + 999_999)], timeout=10)
        assert res[0].offset in (-1, OFFSET_END), \
            f"a timestamp after everything maps to no offset (-1), got {res[0].offset}"
        c.assign([TopicPartition(t, 0, 6)])
        got = consume_n(c, 14)
        assert [g.value for g in got] == [f"v{i}".encode() for i in range(6, 20)]
    finally:
        c.close()


def test_watermark_offsets_report_log_start_and_end(shared_broker):
    t = unique_topic("pc-wm")
    create_topic(shared_broker.bootstrap, t, partitions=2)
    produce_ok(shared_broker.bootstrap, t, [{"value": b"x", "partition": 1}] * 12)
    assert watermarks(shared_broker.bootstrap, t, 0) == (0, 0)
    assert watermarks(shared_broker.bootstrap, t, 1) == (0, 12)


def test_messages_to_several_partitions_stay_in_order_per_partition(shared_broker):
    t = unique_topic("pc-parts")
    create_topic(shared_broker.bootstrap, t, partitions=3)
    msgs = [{"value": f"{i % 3}:{i}".encode(), "partition": i % 3} for i in range(600)]
    reports = produce_ok(shared_broker.bootstrap, t, msgs)
    for p in range(3):
        mine = [r.offset for r in reports if r.partition == p]
        assert mine == list(range(200)), f"partition {p} offsets not 0..199 in send order"
        got = read_from(shared_broker.bootstrap, t, p, 0, 200)
        assert [g.value for g in got] == [f"{p}:{i}".encode() for i in range(p, 600, 3)]


# ---- sizes ----------------------------------------------------------------------------------
def _produce_one(bootstrap, topic, value):
    p = producer(bootstrap, acks="all", message_max_bytes=4_000_000, linger_ms=0,
                 compression_type="none", message_timeout_ms=20000)
    (r,) = produce_all(p, topic, [{"value": value, "partition": 0}])
    return r


def test_message_just_under_topic_max_message_bytes_is_accepted(shared_broker):
    t = unique_topic("pc-size-ok")
    create_topic(shared_broker.bootstrap, t, config={"max.message.bytes": "100000"})
    value = bytes(range(256)) * 350  # 89,600 bytes + batch overhead < 100,000
    r = _produce_one(shared_broker.bootstrap, t, value)
    assert r.error is None, r.error
    assert read_from(shared_broker.bootstrap, t, 0, 0, 1)[0].value == value


def test_message_over_topic_max_message_bytes_fails_with_msg_size_too_large(shared_broker):
    t = unique_topic("pc-size-big")
    create_topic(shared_broker.bootstrap, t, config={"max.message.bytes": "100000"})
    r = _produce_one(shared_broker.bootstrap, t, b"z" * 150_000)
    assert r.error is not None and r.error.code() == KafkaError.MSG_SIZE_TOO_LARGE, r.error
    assert watermarks(shared_broker.bootstrap, t, 0) == (0, 0), "rejected message was stored"
    # The partition still takes messages that fit.
    assert _produce_one(shared_broker.bootstrap, t, b"small").error is None


def test_message_near_default_max_message_bytes_round_trips(shared_broker):
    t = unique_topic("pc-size-default")
    create_topic(shared_broker.bootstrap, t)
    value = b"".join(i.to_bytes(4, "big") for i in range(250_000))  # 1,000,000 bytes
    r = _produce_one(shared_broker.bootstrap, t, value)
    assert r.error is None, r.error
    assert read_from(shared_broker.bootstrap, t, 0, 0, 1)[0].value == value


def test_message_over_default_max_message_bytes_fails_with_msg_size_too_large(shared_broker):
    t = unique_topic("pc-size-default-big")
    create_topic(shared_broker.bootstrap, t)
    r = _produce_one(shared_broker.bootstrap, t, b"q" * 1_100_000)
    assert r.error is not None and r.error.code() == KafkaError.MSG_SIZE_TOO_LARGE, r.error


# ---- auto-creation --------------------------------------------------------------------------
def test_produce_to_unknown_topic_auto_creates_it_by_default(shared_broker):
    t = unique_topic("pc-auto")
    reports = produce_ok(shared_broker.bootstrap, t, [{"value": b"hello"}])
    assert reports[0].offset == 0
    md = admin(shared_broker.bootstrap).list_topics(timeout=10)
    assert t in md.topics and len(md.topics[t].partitions) == 1
    assert read_from(shared_broker.bootstrap, t, 0, 0, 1)[0].value == b"hello"


def test_auto_created_topic_gets_default_partitions(broker_factory):
    b = broker_factory(extra_args=["--default-partitions", "3"])
    t = unique_topic("pc-auto3")
    produce_ok(b.bootstrap, t, [{"value": b"x"}])
    md = admin(b.bootstrap).list_topics(timeout=10)
    assert len(md.topics[t].partitions) == 3


def test_produce_to_unknown_topic_fails_when_auto_creation_is_off(broker_factory):
    b = broker_factory(extra_args=["--auto-create-topics", "false"])
    t = unique_topic("pc-noauto")
    p = producer(b.bootstrap, message_timeout_ms=10000,
                 **{"topic.metadata.propagation.max.ms": 1000})
    (r,) = produce_all(p, t, [{"value": b"x"}], timeout=20)
    assert r.error is not None and r.error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART,
                                                      KafkaError._UNKNOWN_TOPIC), r.error
    md = admin(b.bootstrap).list_topics(timeout=10)
    assert t not in md.topics or md.topics[t].error is not None, "topic was created anyway"
    # The same request over the wire gets UNKNOWN_TOPIC_OR_PARTITION from the broker itself.
    with kw.KafkaConn.to(b.bootstrap) as conn:
        batch = kw.build_record_batch([kw.Record(b"x")])
        res = kw.produce_v3(conn, t, 0, batch)
        assert res.error_code == kw.UNKNOWN_TOPIC_OR_PARTITION, res


# ---- fetch long poll ------------------------------------------------------------------------
def test_fetch_at_end_waits_max_wait_ms_when_no_data_arrives(shared_broker):
    t = unique_topic("pc-longpoll-idle")
    create_topic(shared_broker.bootstrap, t)
    with kw.KafkaConn.to(shared_broker.bootstrap) as conn:
        t0 = time.monotonic()
        res = kw.fetch_v4(conn, t, 0, 0, max_wait_ms=1500)
        took = time.monotonic() - t0
    assert res.error_code == 0
    assert res.records == b"", f"records {res.records!r}, expected empty"
    assert 1.2 <= took <= 5.0, f"empty fetch with max_wait_ms=1500 returned after {took:.2f}s"


def test_fetch_at_end_returns_as_soon_as_data_arrives(shared_broker):
    t = unique_topic("pc-longpoll")
    create_topic(shared_broker.bootstrap, t)
    produced_at = []

    def produce_later():
        time.sleep(0.7)
        produced_at.append(time.monotonic())
        produce_ok(shared_broker.bootstrap, t, [{"value": b"wake", "partition": 0}])

    th = threading.Thread(target=produce_later)
    with kw.KafkaConn.to(shared_broker.bootstrap, timeout=20) as conn:
        t0 = time.monotonic()
        th.start()
        res = kw.fetch_v4(conn, t, 0, 0, max_wait_ms=10000)
        took = time.monotonic() - t0
    th.join(20)
    assert res.error_code == 0
    batches = kw.parse_batches(res.records or b"")
    assert batches and batches[0].base_offset == 0, res
    assert took < 5.0, f"long poll returned {took:.2f}s after start, data came at ~0.7s"


def test_fetch_at_high_watermark_returns_empty_records_not_null(shared_broker):
    """librdkafka 2.0.2 rejects a null records field ("invalid MessageSetSize -1": no partition
    EOF, so `kcat -C -e` never ends) and kafka-python 2.0.2 crashes on it; Kafka sends an empty
    one."""
    t = unique_topic("pc-fetch-end")
    create_topic(shared_broker.bootstrap, t)
    produce_ok(shared_broker.bootstrap, t, [{"value": b"one", "partition": 0}])
    with kw.KafkaConn.to(shared_broker.bootstrap) as conn:
        for offset in (0, 1):
            res = kw.fetch_v4(conn, t, 0, offset, max_wait_ms=50)
            assert res.error_code == 0
            assert res.records is not None, \
                f"fetch at offset {offset} (high watermark 1) returned null records"


def test_advertised_versions_let_librdkafka_enable_every_codec(shared_broker):
    """librdkafka 2.0.2 decides codec support from ApiVersions alone and silently sends
    uncompressed batches when a codec's feature is off (rdkafka_feature.c): gzip/snappy need
    Produce v0..2 overlap, LZ4 needs FindCoordinator v0 advertised (a proxy for Kafka 0.8.2),
    ZSTD needs Produce v7 and Fetch v10."""
    with kw.KafkaConn.to(shared_broker.bootstrap) as conn:
        apis = kw.api_versions(conn, 0).apis
    assert apis.get(0, (99, 99))[0] == 0, f"Produce v0 not advertised: {apis.get(0)}"
    assert 10 in apis and apis[10][0] == 0, \
        "FindCoordinator (key 10) v0 not advertised: librdkafka turns LZ4 off and sends " \
        "lz4-configured batches uncompressed"
    assert apis[0][1] >= 7 and apis[1][1] >= 10, f"zstd needs Produce>=7, Fetch>=10: {apis}"


@pytest.mark.parametrize("smp", [1, 3])
def test_broker_with_n_shards_serves_every_partition(broker_factory, smp):
    b = broker_factory(extra_args=["--smp", str(smp)])
    t = unique_topic(f"pc-smp{smp}")
    create_topic(b.bootstrap, t, partitions=4)
    for p in range(4):
        produce_ok(b.bootstrap, t, [{"value": f"{p}-{i}".encode(), "partition": p}
                                    for i in range(20)])
    for p in range(4):
        got = read_from(b.bootstrap, t, p, 0, 20)
        assert [g.value for g in got] == [f"{p}-{i}".encode() for i in range(20)]
