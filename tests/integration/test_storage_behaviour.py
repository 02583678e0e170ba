"""Storage seen from outside: what survives a restart, retention by bytes and time with tiny
segments, DeleteRecords and the low watermark, and recovery from a torn segment tail."""

import os
import struct
import subprocess
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING
from confluent_kafka.admin import ConfigResource, ConfigSource

import kafka_wire as kw
from tern_helpers import (admin, create_topic, produce_ok, read_all, read_from, result_of,
                          segment_files, unique_topic, wait_until, watermarks)


def data_tree(data_dir, limit=60):
    lines = []
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            p = os.path.join(root, f)
            lines.append(f"{os.path.relpath(p, data_dir)} {os.path.getsize(p)}")
    return "\n".join(sorted(lines)[:limit])


def segments_of(broker, topic, partition=0):
    files = segment_files(broker.data_dir, topic, partition)
    assert files, f"no .log segment files found for {topic}/{partition} (DESIGN.md: one " \
                  f"directory per partition, segments <20-digit base offset>.log)\n" \
                  f"{data_tree(broker.data_dir)}"
    return files


def retention_check_args(binary):
    """Retention normally runs every few minutes; shorten it if the broker has a flag for it."""
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, timeout=20)
    text = (out.stdout + out.stderr).decode(errors="replace")
    for flag in ("--retention-check-interval-ms", "--log-retention-check-interval-ms"):
        if flag in text:
            return [flag, "300"]
    return []


def keyed_messages(partition, n, tag):
    return [{"partition": partition, "key": f"k{i}".encode(),
             "value": f"{tag}-p{partition}-{i}".encode(),
             "headers": [("n", str(i).encode())]} for i in range(n)]


# ---- restart --------------------------------------------------------------------------------
def test_data_topics_and_configs_survive_a_clean_restart(broker):
    t = unique_topic("st-restart")
    create_topic(broker.bootstrap, t, partitions=3, config={"retention.ms": "86400000"})
    for p in range(3):
        produce_ok(broker.bootstrap, t, keyed_messages(p, 300, "before"))
    before = {p: read_all(broker.bootstrap, t, p) for p in range(3)}

    broker.restart()

    md = admin(broker.bootstrap).list_topics(timeout=10)
    assert t in md.topics and len(md.topics[t].partitions) == 3
    res = ConfigResource(ConfigResource.Type.TOPIC, t)
    a = admin(broker.bootstrap)
    entries = result_of(a.describe_configs([res])[res])
    assert entries["retention.ms"].value == "86400000"
    assert entries["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    for p in range(3):
        after = read_all(broker.bootstrap, t, p)
        assert after == before[p], f"partition {p} differs after restart"
        assert len(after) == 300
    # Appends continue where the log ended.
    reports = produce_ok(broker.bootstrap, t, keyed_messages(1, 5, "after"))
    assert [r.offset for r in reports] == list(range(300, 305))
    for p in range(3):
        kw.read_partition(broker.bootstrap, t, p)


def test_acknowledged_messages_survive_sigkill(broker):
    t = unique_topic("st-kill")
    create_topic(broker.bootstrap, t)
    msgs = keyed_messages(0, 2000, "acked")
    produce_ok(broker.bootstrap, t, msgs, acks="all")
    broker.kill()
    broker.start()
    got = read_all(broker.bootstrap, t, 0)
    assert [g.value for g in got] == [m["value"] for m in msgs]
    kw.read_partition(broker.bootstrap, t, 0)


def test_torn_tail_is_truncated_on_restart_and_log_stays_usable(broker):
    t = unique_topic("st-torn")
    create_topic(broker.bootstrap, t)
    msgs = keyed_messages(0, 100, "whole")
    produce_ok(broker.bootstrap, t, msgs)
    broker.stop()
    last = segments_of(broker, t)[-1]
    size = os.path.getsize(last)
    with open(last, "ab") as f:
        # The start of a batch that claims 1000 bytes but was cut after 30: a torn write.
        f.write(struct.pack(">qi", 100, 1000) + b"\x00" * 18)
    broker.start()
    got = read_all(broker.bootstrap, t, 0)
    assert [g.value for g in got] == [m["value"] for m in msgs]
    reports = produce_ok(broker.bootstrap, t, [{"partition": 0, "value": b"after-recovery"}])
    assert reports[0].offset == 100
    assert read_from(broker.bootstrap, t, 0, 100, 1)[0].value == b"after-recovery"
    batches, hw = kw.read_partition(broker.bootstrap, t, 0)
    assert hw == 101
    assert os.path.getsize(last) >= size  # truncated back, then appended to (or rolled)


# ---- retention ------------------------------------------------------------------------------
def test_retention_by_bytes_deletes_old_segments_and_moves_earliest_offset(broker_factory,
                                                                           tern_binary):
    seg, keep = 4096, 16384
    b = broker_factory(extra_args=["--segment-bytes", str(seg), "--retention-bytes", str(keep),
                                   *retention_check_args(tern_binary)])
    t = unique_topic("st-ret-bytes")
    create_topic(b.bootstrap, t)
    n = 0
    for _ in range(40):  # 40 batches of 10 x ~200 bytes, ~80 KB: about 20 segments
        produce_ok(b.bootstrap, t, [{"partition": 0, "value": f"{n + i:06d}".encode() * 33}
                                    for i in range(10)], linger_ms=0)
        n += 10
    low = wait_until(lambda: watermarks(b.bootstrap, t, 0)[0], timeout=30,
                     what=f"retention.bytes={keep} deleting segments (earliest offset > 0); "
                          f"flags {retention_check_args(tern_binary) or 'no retention check flag'}")
    # Retention may take several passes; wait until the earliest offset stops moving.
    stable_low = [None]

    def settled():
        now = watermarks(b.bootstrap, t, 0)[0]
        done = now == stable_low[0]
        stable_low[0] = now
        return done
    wait_until(settled, timeout=30, interval=1.0, what="earliest offset to settle")
    low, high = watermarks(b.bootstrap, t, 0)
    assert high == n
    assert 0 < low < high
    files = segments_of(b, t)
    total = sum(os.path.getsize(f) for f in files)
    assert total <= keep + 2 * seg, f"{total} bytes kept with retention.bytes={keep}\n" \
                                    f"{data_tree(b.data_dir)}"
    assert int(os.path.basename(files[0]).split(".")[0]) == low, \
        f"earliest offset {low} is not the first segment's base offset: {files[0]}"
    got = read_from(b.bootstrap, t, 0, OFFSET_BEGINNING, high - low)
    assert got[0].offset == low
    assert [g.value for g in got] == [f"{i:06d}".encode() * 33 for i in range(low, high)]


def test_retention_by_time_deletes_segments_with_old_timestamps(broker_factory, tern_binary):
    b = broker_factory(extra_args=retention_check_args(tern_binary))
    t = unique_topic("st-ret-time")
    create_topic(b.bootstrap, t, config={"segment.bytes": "4096", "retention.ms": "2000"})
    old = int(time.time() * 1000) - 3_600_000
    for c in range(20):
        produce_ok(b.bootstrap, t, [{"partition": 0, "value": b"o" * 200, "timestamp": old + c}
                                    for _ in range(10)], linger_ms=0)
    wait_until(lambda: watermarks(b.bootstrap, t, 0)[0] > 0, timeout=30,
               what="retention.ms=2000 deleting hour-old segments")
    low, high = watermarks(b.bootstrap, t, 0)
    assert high == 200 and low > 0
    # New records are not affected.
    produce_ok(b.bootstrap, t, [{"partition": 0, "value": b"fresh"}])
    assert read_from(b.bootstrap, t, 0, 200, 1)[0].value == b"fresh"


# ---- DeleteRecords --------------------------------------------------------------------------
def test_delete_records_moves_low_watermark_and_persists_across_restart(broker):
    t = unique_topic("st-delrec")
    create_topic(broker.bootstrap, t)
    for c in range(5):
        produce_ok(broker.bootstrap, t, [{"partition": 0, "value": f"v{c * 10 + i}".encode()}
                                         for i in range(10)])
    with kw.KafkaConn.to(broker.bootstrap) as conn:
        assert kw.delete_records_v0(conn, t, 0, 25) == (0, 25)
        assert kw.list_offset_v1(conn, t, 0, kw.EARLIEST) == (0, 25)
        assert kw.list_offset_v1(conn, t, 0, kw.LATEST) == (0, 50)
        assert kw.fetch_v4(conn, t, 0, 10).error_code == kw.OFFSET_OUT_OF_RANGE
        # Beyond the high watermark is out of range and changes nothing.
        assert kw.delete_records_v0(conn, t, 0, 60)[0] == kw.OFFSET_OUT_OF_RANGE
        # Moving backwards is not an error, and does not move the watermark back.
        err, low = kw.delete_records_v0(conn, t, 0, 5)
        assert low == 25, (err, low)
    assert watermarks(broker.bootstrap, t, 0) == (25, 50)
    got = read_from(broker.bootstrap, t, 0, OFFSET_BEGINNING, 25)
    assert [(g.offset, g.value) for g in got] == [(i, f"v{i}".encode()) for i in range(25, 50)]

    broker.restart()
    assert watermarks(broker.bootstrap, t, 0) == (25, 50), "log start offset lost on restart"

    with kw.KafkaConn.to(broker.bootstrap) as conn:
        assert kw.delete_records_v0(conn, t, 0, -1) == (0, 50)  # -1: up to the high watermark
    assert watermarks(broker.bootstrap, t, 0) == (50, 50)
    produce_ok(broker.bootstrap, t, [{"partition": 0, "value": b"next"}])
    assert read_from(broker.bootstrap, t, 0, OFFSET_BEGINNING, 1)[0].offset == 50


def test_delete_records_of_unknown_topic_fails_with_unknown_topic(shared_broker):
    with kw.KafkaConn.to(shared_broker.bootstrap) as conn:
        err, _ = kw.delete_records_v0(conn, unique_topic("st-delrec-nosuch"), 0, 1)
    assert err == kw.UNKNOWN_TOPIC_OR_PARTITION
