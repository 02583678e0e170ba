"""Malformed input over real sockets. Each case must end in an error response or a closed
connection, never a crash or a damaged log: after every test a fresh client produces to and
consumes from a canary topic whose earlier records must still be intact (checked with
librdkafka and with a raw Fetch whose batch CRCs are verified here)."""

import os
import random
import socket
import struct
import time
import zlib

import pytest

import kafka_wire as kw
from tern_helpers import (create_topic, produce_ok, read_all, read_from, unique_topic,
                          watermarks)

# Short request timeout so the slow-client case finishes quickly.
BROKER_ARGS = ["--request-timeout-ms", "2000"]
DEFAULT_MAX_REQUEST_BYTES = 100 << 20


class Canary:
    """A topic that must stay readable and undamaged whatever the other tests send."""

    def __init__(self, broker):
        self.broker = broker
        self.topic = unique_topic("canary")
        create_topic(broker.bootstrap, self.topic)
        self.log = []        # values read at the last check, in offset order
        self.acked = []      # values whose produce was acknowledged
        self.add(20)

    def add(self, n=1):
        vals = [f"canary-{len(self.acked) + i}".encode() for i in range(n)]
        produce_ok(self.broker.bootstrap, self.topic,
                   [{"partition": 0, "value": v, "key": b"k"} for v in vals], acks="all",
                   timeout=10)
        self.acked += vals

    def check(self):
        self.broker.assert_alive()
        self.add(1)
        got = [g.value for g in read_all(self.broker.bootstrap, self.topic, 0)]
        assert got[:len(self.log)] == self.log, "canary topic: earlier records changed"
        missing = [v for v in self.acked if v not in set(got)]
        assert not missing, f"canary topic: acknowledged records missing: {missing[:5]}"
        self.log = got
        kw.read_partition(self.broker.bootstrap, self.topic, 0)


@pytest.fixture(scope="module")
def canary(shared_broker):
    return Canary(shared_broker)


@pytest.fixture(autouse=True)
def broker_still_serves(canary):
    yield
    canary.check()


@pytest.fixture
def target(shared_broker):
    """A topic for raw produce requests."""
    t = unique_topic("raw")
    create_topic(shared_broker.bootstrap, t)
    return t


def conn_to(broker, timeout=10.0):
    return kw.KafkaConn.to(broker.bootstrap, timeout)


# ---- the helper itself ----------------------------------------------------------------------
def test_raw_produce_v3_of_python_built_batch_is_accepted_and_readable(shared_broker, target):
    recs = [kw.Record(b"v0", b"k0", [("h", b"1")]),
            kw.Record(None, b"k1", [], 5),
            kw.Record(b"v2", None, [("a", b""), ("b", None)], 9)]
    base_ts = int(time.time() * 1000) - 1000
    with conn_to(shared_broker) as c:
        res = kw.produce_v3(c, target, 0, kw.build_record_batch(recs, base_timestamp=base_ts))
    assert (res.error_code, res.base_offset) == (0, 0), res
    got = read_from(shared_broker.bootstrap, target, 0, 0, 3)
    assert [(g.key, g.value) for g in got] == [(b"k0", b"v0"), (b"k1", None), (None, b"v2")]
    assert got[0].headers == [("h", b"1")]
    assert got[2].headers == [("a", b""), ("b", None)]
    assert [g.timestamp[1] for g in got] == [base_ts, base_ts + 5, base_ts + 9]


def test_raw_produce_v3_gzip_batch_is_accepted(shared_broker, target):
    recs = [kw.Record(f"gz-{i}".encode()) for i in range(10)]
    with conn_to(shared_broker) as c:
        res = kw.produce_v3(c, target, 0, kw.build_record_batch(
            recs, compression=kw.COMPRESSION_GZIP))
    assert res.error_code == 0, res
    got = read_from(shared_broker.bootstrap, target, 0, 0, 10)
    assert [g.value for g in got] == [f"gz-{i}".encode() for i in range(10)]


# ---- ApiVersions ----------------------------------------------------------------------------
def test_api_versions_v0_advertises_the_apis_clients_need(shared_broker):
    with conn_to(shared_broker) as c:
        resp = kw.api_versions(c, 0)
    assert resp.error_code == 0
    apis = resp.apis
    need = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 18: "ApiVersions",
            19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords", 32: "DescribeConfigs",
            37: "CreatePartitions"}
    missing = [name for k, name in need.items() if k not in apis]
    assert not missing, f"not advertised: {missing} (advertised {sorted(apis)})"
    assert 33 in apis or 44 in apis, "neither AlterConfigs nor IncrementalAlterConfigs"
    assert apis[0][0] == 0, "Produce must stay advertised from v0 (librdkafka 2.0.2 checks " \
                            "compression support against Produce v0)"
    assert apis[0][1] >= 7, f"Produce up to v7 at least (zstd), got {apis[0]}"
    assert apis[1][1] >= 10, f"Fetch up to v10 at least (zstd, kafka-python 2.1 guess): {apis[1]}"
    assert apis[18][0] == 0 and apis[18][1] >= 3, f"ApiVersions 0-3: {apis[18]}"
    for k, (lo, hi) in apis.items():
        assert 0 <= lo <= hi, f"api {k}: bad range {lo}..{hi}"


def test_api_versions_v3_flexible_request_gets_a_flexible_answer(shared_broker):
    with conn_to(shared_broker) as c:
        resp = kw.api_versions_v3(c)
        v0 = kw.api_versions(c, 0)  # same connection keeps working
    assert resp.error_code == 0
    assert resp.apis == v0.apis


def test_api_versions_v99_returns_unsupported_version_with_list_in_v0_layout(shared_broker):
    with conn_to(shared_broker) as c:
        corr = c.send_request(kw.API_API_VERSIONS, 99, b"")
        r = c.recv_response(corr)
        resp = kw.parse_api_versions_v0(r)
    assert resp.error_code == kw.UNSUPPORTED_VERSION
    assert 18 in resp.apis and resp.apis[18][0] == 0, \
        f"the fallback list must include ApiVersions so the client can retry: {resp.apis}"


# ---- framing --------------------------------------------------------------------------------
def test_negative_length_closes_connection(shared_broker):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.i32(-1))
        assert c.closed_by_peer(10), "connection stayed open after a negative frame length"


@pytest.mark.parametrize("length", [DEFAULT_MAX_REQUEST_BYTES + 1, 0x7FFFFFFF])
def test_length_over_max_request_size_closes_connection_before_body(shared_broker, length):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.i32(length) + b"\x00\x12\x00\x00")
        assert c.closed_by_peer(10), f"connection stayed open after frame length {length}"


def test_zero_length_frame_is_rejected(shared_broker):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.i32(0))
        assert c.closed_by_peer(10)


def test_truncated_frame_then_close_leaves_broker_serving(shared_broker):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.i32(100) + kw.request_header_v1(kw.API_API_VERSIONS, 0, 1)[:10])
    # The canary check (autouse fixture) proves the broker still serves.


def test_request_body_shorter_than_its_schema(shared_broker, target):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.frame(kw.request_header_v1(kw.API_PRODUCE, 3, 7) + b"\xff\xff\x00"))
        kind, payload, corr = kw.response_or_close(c)
    assert kind == "closed" or corr == 7


def test_array_count_beyond_remaining_bytes_is_rejected_without_allocating(shared_broker,
                                                                          target):
    body = kw.string(None) + kw.i16(-1) + kw.i32(1000) + kw.i32(0x7FFFFFF0)  # topic count
    with conn_to(shared_broker) as c:
        c.send_raw(kw.frame(kw.request_header_v1(kw.API_PRODUCE, 3, 8) + body))
        kind, payload, corr = kw.response_or_close(c)
    assert kind == "closed" or corr == 8


# ---- unknown APIs and versions --------------------------------------------------------------
def test_unknown_api_key_gets_error_or_close(shared_broker):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.encode_request(9999, 0, 5, b"\x00" * 8))
        kind, payload, corr = kw.response_or_close(c)
    assert kind == "closed" or corr == 5


@pytest.mark.parametrize("api_key", [kw.API_PRODUCE, kw.API_FETCH, kw.API_METADATA])
def test_unsupported_version_of_known_api_gets_unsupported_version_or_close(shared_broker,
                                                                          api_key):
    with conn_to(shared_broker) as c:
        c.send_raw(kw.encode_request(api_key, 99, 6, b"\x00" * 16))
        kind, payload, corr = kw.response_or_close(c)
    if kind == "response":
        assert corr == 6
        assert kw.i16(kw.UNSUPPORTED_VERSION) in payload, \
            f"response to api {api_key} v99 carries no UNSUPPORTED_VERSION: {payload[:64]!r}"


# ---- record batches -------------------------------------------------------------------------
def _hw(shared_broker, topic):
    return watermarks(shared_broker.bootstrap, topic, 0)[1]


def test_produce_v3_with_bad_crc_gets_corrupt_message(shared_broker, target):
    batch = kw.build_record_batch([kw.Record(b"a"), kw.Record(b"b")], corrupt_crc=True)
    with conn_to(shared_broker) as c:
        res = kw.produce_v3(c, target, 0, batch)
        assert res.error_code == kw.CORRUPT_MESSAGE, res
        # The connection stays usable after a per-partition error.
        ok = kw.produce_v3(c, target, 0, kw.build_record_batch([kw.Record(b"good")]))
        assert (ok.error_code, ok.base_offset) == (0, 0), ok
    assert _hw(shared_broker, target) == 1


@pytest.mark.parametrize("claimed", [5, 2, 0])
def test_produce_v3_with_record_count_mismatch_gets_corrupt_message(shared_broker, target,
                                                                   claimed):
    recs = [kw.Record(b"x"), kw.Record(b"y"), kw.Record(b"z")]
    batch = kw.build_record_batch(recs, record_count=claimed)  # CRC is valid
    with conn_to(shared_broker) as c:
        res = kw.produce_v3(c, target, 0, batch)
    assert res.error_code in (kw.CORRUPT_MESSAGE, kw.INVALID_RECORD), res
    assert _hw(shared_broker, target) == 0


def test_produce_v3_with_truncated_record_gets_corrupt_message(shared_broker, target):
    good = b"".join(kw.encode_record(kw.Record(b"hello-world"), i) for i in range(2))
    batch = kw.build_record_batch([kw.Record(b"a"), kw.Record(b"b")],
                                  records_payload=good[:-4])
    with conn_to(shared_broker) as c:
        res = kw.produce_v3(c, target, 0, batch)
    assert res.error_code in (kw.CORRUPT_MESSAGE, kw.INVALID_RECORD), res
    assert _hw(shared_broker, target) == 0


def _peak_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def test_gzip_bomb_is_rejected_without_inflating_it(shared_broker, target):
    inflated = 512 << 20
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = bytes(1 << 20)
    bomb = b"".join(z.compress(chunk) for _ in range(inflated >> 20)) + z.flush()
    assert len(bomb) < 1 << 20
    batch = kw.build_record_batch([kw.Record(b"x")], compression=kw.COMPRESSION_GZIP,
                                  records_payload=bomb)
    with conn_to(shared_broker, timeout=30) as c:
        c.send_request(kw.API_PRODUCE, 3, kw.encode_produce_v3(target, 0, batch))
        kind, payload, corr = kw.response_or_close(c, timeout=30)
    if kind == "response":
        results = kw.parse_produce_v3(kw.Reader(payload))
        assert results and results[0][1].error_code != 0, \
            f"a gzip bomb ({inflated} bytes inflated) was accepted: {results}"
    assert _hw(shared_broker, target) == 0
    peak = _peak_rss_bytes(shared_broker.pid)
    assert peak < 400 << 20, f"broker peak RSS {peak >> 20} MiB: the bomb was inflated in memory"


# ---- slow and garbage clients ---------------------------------------------------------------
def test_client_sending_one_byte_per_second_is_dropped_after_request_timeout(shared_broker,
                                                                            canary):
    request = kw.encode_request(kw.API_API_VERSIONS, 0, 1, b"")
    with conn_to(shared_broker) as c:
        start = time.monotonic()
        closed_after = None
        for i in range(len(request)):
            try:
                c.send_raw(request[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - start
                break
            if i == 0:
                canary.check()  # other clients are served while this one dribbles
            if c.closed_by_peer(1.0):
                closed_after = time.monotonic() - start
                break
        assert closed_after is not None, \
            f"a {len(request)}-byte request sent at 1 byte/s was never cut off " \
            f"(--request-timeout-ms 2000)"
        assert closed_after <= 8.0, f"slow client dropped only after {closed_after:.1f}s"


@pytest.mark.parametrize("kind", ["random", "ones", "http", "tls-hello"])
def test_garbage_bytes_leave_broker_serving(shared_broker, kind):
    rng = random.Random(7)
    data = {
        "random": bytes(rng.getrandbits(8) for _ in range(65536)),
        "ones": b"\xff" * 65536,                      # frame length -1
        "http": b"GET / HTTP/1.1\r\nHost: tern\r\n\r\n",  # frame length ~1.2 GB
        "tls-hello": bytes.fromhex("16030100a5010000a10303") + bytes(200),  # ~369 MB
    }[kind]
    with conn_to(shared_broker) as c:
        try:
            c.send_raw(data)
            outcome = kw.response_or_close(c, timeout=10)[0]
        except (BrokenPipeError, ConnectionResetError):
            outcome = "closed"
        except (AssertionError, ValueError, kw.Truncated) as e:
            outcome = f"odd: {e}"
    if kind != "random":
        assert outcome == "closed", f"{kind}: expected the connection to be closed, {outcome}"


def test_many_bad_connections_in_a_row(shared_broker):
    rng = random.Random(11)
    for i in range(100):
        with conn_to(shared_broker) as c:
            try:
                c.send_raw(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64))))
            except (BrokenPipeError, ConnectionResetError):
                pass
    with conn_to(shared_broker) as c:
        assert kw.api_versions(c, 0).error_code == 0
