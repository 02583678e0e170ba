"""Log compaction (cleanup.policy=compact) against a real broker with python3-confluent-kafka:
compacted topics keep the last value of every key at its original offset, tombstones go after
delete.retention.ms, keyless records are refused, the configs are accepted and described, and
the internal __consumer_offsets topic stays bounded while committed offsets survive compaction
and restarts.

Compaction only rewrites closed segments, so every test closes the segment holding its updates
by producing a marker record after segment.ms has passed; the broker checks for work every
200 ms (--compaction-check-interval-ms) instead of Kafka's 15 s.
"""

from __future__ import annotations

import os
import re
import struct
import time
from typing import Dict, List, Optional, Tuple

from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import ConfigResource, ConfigSource
from kafka import KafkaAdminClient

import kafka_wire as kw

from tern_helpers import (Got, admin, consumer, create_topic, error_code_of, producer,
                          produce_all, produce_ok, result_of, segment_files, unique_topic,
                          wait_until, watermarks)

CHECK_MS = "200"
BROKER_ARGS = ["--compaction-check-interval-ms", CHECK_MS]
SEGMENT_MS = 400
POLICY_VIOLATION = 44


def log_bytes(data_dir: str, topic: str, partition: int = 0) -> int:
    total = 0
    for f in segment_files(data_dir, topic, partition):
        try:
            total += os.path.getsize(f)
        except FileNotFoundError:  # deleted by a compaction meanwhile
            pass
    return total


def read_until(bootstrap: str, topic: str, last_offset: int, timeout: float = 30.0,
               partition: int = 0) -> List[Got]:
    """Every record from the start of the partition to `last_offset` (inclusive), however
    many offsets compaction removed in between."""
    c = consumer(bootstrap)
    out: List[Got] = []
    try:
        c.assign([TopicPartition(topic, partition, 0)])  # 0: before the first kept offset
        deadline = time.monotonic() + timeout
        while not out or out[-1].offset < last_offset:
            left = deadline - time.monotonic()
            assert left > 0, f"did not reach offset {last_offset} within {timeout}s: " \
                             f"{[(g.offset, g.key) for g in out[-5:]]}"
            for m in c.consume(num_messages=1000, timeout=min(left, 1.0)):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError(f"consumer error: {m.error()}")
                out.append(Got(m.partition(), m.offset(), m.key(), m.value(), m.headers(),
                               m.timestamp()))
    finally:
        c.close()
    return out


def batch_headers(data_dir: str, topic: str, partition: int = 0) -> List[Dict]:
    """The RecordBatch v2 headers in a partition's segment files, in order."""
    out = []
    for f in segment_files(data_dir, topic, partition):
        with open(f, "rb") as fh:
            data = fh.read()
        at = 0
        while at + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, at)
            last_delta, = struct.unpack_from(">i", data, at + 23)
            producer_id, = struct.unpack_from(">q", data, at + 43)
            records, = struct.unpack_from(">i", data, at + 57)
            out.append({"base_offset": base, "last_offset": base + last_delta,
                        "producer_id": producer_id, "records": records})
            at += 12 + length
    return out


def topic_configs(bootstrap: str, topic: str) -> Dict:
    a = admin(bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = result_of(a.describe_configs([res], request_timeout=15)[res])
    assert not isinstance(entries, KafkaError), f"describe_configs({topic}): {entries}"
    return entries


def close_segment(bootstrap: str, topic: str) -> int:
    """Waits out segment.ms and appends a marker, which rolls the segment holding everything
    before it. Returns the marker's offset."""
    time.sleep(SEGMENT_MS / 1000 + 0.2)
    (r,) = produce_ok(bootstrap, topic, [{"key": b"marker", "value": b"end", "partition": 0}])
    return r.offset


def compacted_topic(bootstrap: str, topic: str, **extra: str) -> None:
    config = {"cleanup.policy": "compact", "segment.bytes": "4096",
              "segment.ms": str(SEGMENT_MS), "min.cleanable.dirty.ratio": "0.01"}
    config.update(extra)
    create_topic(bootstrap, topic, config=config)


def test_compacted_topic_keeps_the_latest_value_of_each_key_at_its_offset(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic("compact-latest")
    compacted_topic(bs, topic)
    keys = [f"key-{k}".encode() for k in range(8)]
    messages = []
    for n in range(250):
        for k in keys:
            messages.append({"key": k, "value": k + b"=v%04d" % n + b"." * 40, "partition": 0})
    reports = produce_ok(bs, topic, messages, timeout=60, batch_num_messages=40)
    last: Dict[bytes, Tuple[int, bytes]] = {}
    for m, r in zip(messages, reports):
        last[m["key"]] = (r.offset, m["value"])
    # Passes may already run while the records arrive (every closed 4 KiB segment makes the
    # log dirty enough); what counts is the end state.
    produced = sum(len(m["key"]) + len(m["value"]) for m in messages)
    marker = close_segment(bs, topic)

    # Until the last pass, the segment closed by the marker may still hold several values of
    # a key; then each key appears once, and the log is about one record per key.
    def fully_compacted():
        got = read_until(bs, topic, marker)
        ks = [g.key for g in got]
        return got if len(ks) == len(set(ks)) else None

    got = wait_until(fully_compacted, 30, interval=0.3, what=f"{topic} fully compacted")
    assert log_bytes(b.data_dir, topic) < produced / 20, \
        f"{log_bytes(b.data_dir, topic)} bytes left of {produced}"
    assert "compacted" in b.log_text()
    low, high = watermarks(bs, topic)
    assert (low, high) == (0, marker + 1), "compaction must not move the log start or end"
    assert got[-1].key == b"marker" and got[-1].offset == marker
    seen = {}
    for g in got[:-1]:
        assert g.key not in seen, f"{g.key!r} appears twice (offsets {seen[g.key]}, {g.offset})"
        seen[g.key] = g.offset
        assert (g.offset, g.value) == last[g.key], f"{g.key!r}: got {g.offset}, {g.value!r}"
    assert set(seen) == set(keys)
    # Offsets keep increasing past the compacted ones.
    (r,) = produce_ok(bs, topic, [{"key": b"key-0", "value": b"after", "partition": 0}])
    assert r.offset == marker + 1

    # And the compacted log is what a restart finds.
    b.restart()
    got2 = read_until(bs, topic, marker + 1)
    assert [(g.offset, g.key, g.value) for g in got2[:-2]] == \
        [(g.offset, g.key, g.value) for g in got[:-1]]


def test_tombstones_hide_the_key_then_go_after_delete_retention(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic("compact-tombstone")
    compacted_topic(bs, topic, **{"delete.retention.ms": "10000"})
    messages = [{"key": b"gone", "value": b"v%d" % i, "partition": 0} for i in range(50)]
    messages += [{"key": b"stays", "value": b"s%d" % i, "partition": 0} for i in range(50)]
    messages.append({"key": b"gone", "value": None, "partition": 0})  # the tombstone
    reports = produce_ok(bs, topic, messages, batch_num_messages=10)
    tomb_offset = reports[-1].offset
    marker = close_segment(bs, topic)

    def keys_now():
        return [(g.key, g.value) for g in read_until(bs, topic, marker)]

    # First pass: the old values of "gone" disappear, its tombstone stays (for 10 s).
    state = wait_until(lambda: (lambda ks: ks if (b"gone", b"v49") not in ks else None)(
        keys_now()), 20, what="old values of 'gone' compacted away")
    assert (b"gone", None) in state, f"tombstone missing right after compaction: {state}"
    assert state.count((b"stays", b"s49")) == 1 and (b"stays", b"s0") not in state
    got = read_until(bs, topic, marker)
    assert [g.offset for g in got if g.key == b"gone"] == [tomb_offset]

    # After delete.retention.ms a later pass removes the tombstone itself.
    wait_until(lambda: (b"gone", None) not in keys_now(), 40, interval=0.5,
               what="tombstone removed after delete.retention.ms")
    assert keys_now() == [(b"stays", b"s49"), (b"marker", b"end")]


def test_idempotent_producer_keeps_its_sequence_across_compaction(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic("compact-idem")
    compacted_topic(bs, topic)
    idem = producer(bs, enable_idempotence=True, batch_num_messages=20)
    msgs = [{"key": b"k", "value": b"idem-%d" % i + b"." * 60, "partition": 0}
            for i in range(300)]
    reports = produce_all(idem, topic, msgs)
    assert all(r.error is None for r in reports), [r.error for r in reports if r.error][:1]
    # Another producer supersedes every record of the idempotent one: its last batch stays
    # as an empty batch, so that its sequence is still known.
    (final,) = produce_ok(bs, topic, [{"key": b"k", "value": b"final", "partition": 0}])
    marker = close_segment(bs, topic)

    def compacted():
        got = read_until(bs, topic, marker)
        return got if [g.value for g in got] == [b"final", b"end"] else None

    got = wait_until(compacted, 30, interval=0.3, what=f"{topic} compacted to its last value")
    assert [g.offset for g in got] == [final.offset, marker]
    # The consumer read past a header-only batch (recordCount 0) of the idempotent producer.
    empty = [h for h in batch_headers(b.data_dir, topic) if h["records"] == 0]
    assert len(empty) == 1 and empty[0]["producer_id"] >= 0, empty
    assert empty[0]["last_offset"] == reports[-1].offset
    # The idempotent producer goes on with its next sequence: accepted, not out of order.
    (r,) = produce_all(idem, topic, [{"key": b"k", "value": b"after", "partition": 0}])
    assert r.error is None and r.offset == marker + 1, r
    # Also after a restart, which rebuilds the producer state.
    b.restart()
    (r,) = produce_all(idem, topic, [{"key": b"k", "value": b"after-restart", "partition": 0}])
    assert r.error is None and r.offset == marker + 2, r
    got = read_until(bs, topic, marker + 2)
    assert [g.value for g in got][-2:] == [b"after", b"after-restart"]


def test_records_without_key_are_refused_by_compacted_topics(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    for policy in ("compact", "compact,delete"):
        topic = unique_topic("compact-nokey")
        create_topic(bs, topic, config={"cleanup.policy": policy})
        p = producer(bs)
        (r,) = produce_all(p, topic, [{"value": b"no key", "partition": 0}])
        assert r.error is not None, f"{policy}: a keyless record was accepted"
        assert r.error.code() == KafkaError.INVALID_RECORD, f"{policy}: {r.error}"
        assert not r.error.retriable()
        (ok,) = produce_all(p, topic, [{"key": b"k", "value": b"v", "partition": 0}])
        assert ok.error is None and ok.offset == 0, ok
    # A delete-only topic takes them as before.
    topic = unique_topic("delete-nokey")
    create_topic(bs, topic, config={"cleanup.policy": "delete"})
    produce_ok(bs, topic, [{"value": b"no key", "partition": 0}])


def test_compaction_configs_are_validated_and_described(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic("compact-configs")
    create_topic(bs, topic, config={"cleanup.policy": "compact,delete",
                                    "min.cleanable.dirty.ratio": "0.25",
                                    "delete.retention.ms": "1000",
                                    "min.compaction.lag.ms": "500"})
    e = topic_configs(bs, topic)
    assert e["cleanup.policy"].value == "compact,delete"
    assert e["cleanup.policy"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert e["min.cleanable.dirty.ratio"].value == "0.25"
    assert e["delete.retention.ms"].value == "1000"
    assert e["min.compaction.lag.ms"].value == "500"
    other = unique_topic("compact-defaults")
    create_topic(bs, other)
    d = topic_configs(bs, other)
    assert d["cleanup.policy"].value == "delete" and d["cleanup.policy"].is_default
    assert d["min.cleanable.dirty.ratio"].value == "0.5"
    assert d["delete.retention.ms"].value == "86400000"
    assert d["min.compaction.lag.ms"].value == "0"

    a = admin(bs)
    for key, bad in (("cleanup.policy", "sometimes"), ("cleanup.policy", "compact,compact"),
                     ("min.cleanable.dirty.ratio", "1.5"), ("min.cleanable.dirty.ratio", "x"),
                     ("delete.retention.ms", "-1"), ("min.compaction.lag.ms", "-5")):
        res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={key: bad})
        code = error_code_of(a.alter_configs([res], request_timeout=15)[res])
        assert code == KafkaError.INVALID_CONFIG, f"{key}={bad}: {code}"
    # "delete, compact" (either order, spaces) is the same policy.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic,
                         set_config={"cleanup.policy": "delete, compact"})
    assert error_code_of(a.alter_configs([res], request_timeout=15)[res]) == 0


def test_delete_records_is_refused_unless_the_policy_includes_delete(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    for policy, expected in (("compact", POLICY_VIOLATION), ("compact,delete", kw.NONE)):
        topic = unique_topic("compact-delrec")
        create_topic(bs, topic, config={"cleanup.policy": policy})
        produce_ok(bs, topic, [{"key": b"k%d" % i, "value": b"v", "partition": 0}
                               for i in range(5)])
        with kw.KafkaConn.to(bs) as conn:
            err, _low = kw.delete_records_v0(conn, topic, 0, 2)
        assert err == expected, f"{policy}: DeleteRecords answered {err}"


def group_commit(bs: str, group: str, topic: str, offsets: List[int]) -> None:
    """Commits each offset in turn (one OffsetCommit each) without joining the group."""
    c = consumer(bs, group_id=group)
    try:
        for o in offsets:
            c.commit(offsets=[TopicPartition(topic, 0, o)], asynchronous=False)
    finally:
        c.close()


def committed(bs: str, group: str, topic: str) -> int:
    c = consumer(bs, group_id=group)
    try:
        return c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
    finally:
        c.close()


def test_consumer_offsets_stay_bounded_and_commits_survive_compaction_and_restart(
        broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS + ["--offsets-segment-bytes", "4096",
                                                 "--offsets-partitions", "1",
                                                 "--flush", "never"])
    bs = b.bootstrap
    offsets_topic = "__consumer_offsets"
    e = topic_configs(bs, offsets_topic)
    assert e["cleanup.policy"].value == "compact"
    assert e["segment.bytes"].value == "4096"

    topic = unique_topic("compact-commits")
    create_topic(bs, topic)
    keep, dropped = unique_topic("g-keep"), unique_topic("g-dropped")
    group_commit(bs, dropped, topic, [1, 2, 3])
    commits = 1500
    group_commit(bs, keep, topic, list(range(1, commits + 1)))
    assert committed(bs, keep, topic) == commits
    # Deleting a group writes tombstones for it and its offsets.
    ka = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=15000)
    try:
        res = ka.delete_consumer_groups([dropped])
        assert [(g, err.errno) for g, err in res] == [(dropped, 0)], res
    finally:
        ka.close()
    # Every commit appended a record; compaction keeps about one per key.
    grown_to = 60 * 4096
    wait_until(lambda: log_bytes(b.data_dir, offsets_topic) < 4 * 4096, 60,
               what=f"__consumer_offsets compacted below 16 KiB after {commits} commits "
                    f"(had up to ~{grown_to} bytes)")
    assert re.search(r"__consumer_offsets.0: compacted \d+ segment", b.log_text()), \
        "no compaction of __consumer_offsets logged"
    assert committed(bs, keep, topic) == commits
    assert committed(bs, dropped, topic) < 0  # no offset: the group was deleted

    # A restart replays the compacted log into the same state.
    b.restart()
    assert committed(bs, keep, topic) == commits
    assert committed(bs, dropped, topic) < 0
    # And after a SIGKILL.
    group_commit(bs, keep, topic, [commits + 1])
    b.kill()
    b.start()
    assert committed(bs, keep, topic) == commits + 1
    assert log_bytes(b.data_dir, offsets_topic) < 4 * 4096


def test_old_consumer_offsets_config_is_brought_up_to_date_at_start(broker_factory):
    b = broker_factory(extra_args=BROKER_ARGS + ["--offsets-partitions", "1"])
    bs = b.bootstrap
    # What a data directory from before compaction holds: retention off, no cleanup.policy.
    a = admin(bs)
    res = ConfigResource(ConfigResource.Type.TOPIC, "__consumer_offsets",
                         set_config={"retention.ms": "-1", "retention.bytes": "-1"})
    assert error_code_of(a.alter_configs([res], request_timeout=15)[res]) == 0
    e = topic_configs(bs, "__consumer_offsets")
    assert e["cleanup.policy"].value == "delete" and e["retention.ms"].value == "-1"
    b.restart()
    e = topic_configs(bs, "__consumer_offsets")
    assert e["cleanup.policy"].value == "compact"
    assert e["segment.bytes"].value == str(100 * 1024 * 1024)
    assert e["retention.ms"].is_default, "the legacy retention.ms=-1 override stays"
