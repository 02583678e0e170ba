"""Back pressure: the per-connection and broker-wide memory budgets for in-flight requests
(src/net/budget.*, src/kafka/server.cc) and how a wait for them is reported.

A connection takes the size of each request from its own budget and from the global one before
it reads the request's body, and gives it back once the response is written. When a budget is
exhausted the broker stops reading that connection; the time the next request waited is sent back
as its throttle_time_ms (request_context.respond). A single request larger than a whole budget is
let through when nothing else holds that budget (budget.h: "a single request larger than the
whole budget is let through alone ... so it cannot wait forever"); what is too large to read at
all is --max-request-bytes (test_bad_input.py).

The waits here are forced, not hoped for: a Fetch long poll (max_wait_ms, nothing to read) keeps
its request's budget until its response is written, so whatever is pipelined behind it on the
same connection (connection budget) or sent on another connection (global budget) must wait for
it. The tests assert throttle_time_ms > 0, never a particular value, and every loop and wait is
bounded.
"""

from __future__ import annotations

import threading
import time
from typing import List, Tuple

from kafka_wire import (API_FETCH, API_PRODUCE, NONE, KafkaConn, Reader, Record,
                        build_record_batch, encode_fetch_v4, encode_produce_v3, encode_request,
                        has_pending_bytes, parse_fetch_v4_response, parse_produce_v3_response,
                        produce_v3, read_partition_records)
from tern_helpers import (consumer, consume_n, create_topic, produce_ok, unique_topic)
from confluent_kafka import TopicPartition

# Long enough that nothing else ends the poll first; it is ended early by producing to the
# polled topic (or by the test giving up: every wait below is shorter than the test bound).
LONG_POLL_MS = 15000


def value_of(batch_no: int, rec_no: int, size: int) -> bytes:
    head = b"b%05d-r%03d|" % (batch_no, rec_no)
    return head + bytes((batch_no * 31 + rec_no + i) % 251 for i in range(size - len(head)))


def big_batch(batch_no: int, records: int, size: int) -> bytes:
    return build_record_batch([Record(value_of(batch_no, i, size)) for i in range(records)])


def read_responses(conn: KafkaConn, corrs: List[int], timeout: float) -> List[Reader]:
    """Reads one response per correlation id, in order (Kafka answers a connection's requests
    in the order they were sent)."""
    out = []
    deadline = time.monotonic() + timeout
    for corr in corrs:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(out)} of {len(corrs)} responses within {timeout}s"
        conn.sock.settimeout(left)
        out.append(conn.recv_response(corr))
    return out


def send_in_thread(conn: KafkaConn, frames: List[bytes]) -> Tuple[threading.Thread, list]:
    """Writes frames from a thread: while the broker does not read, sendall() blocks once the
    socket buffers are full, and the test must go on meanwhile."""
    errors: list = []

    def run():
        try:
            for f in frames:
                conn.send_raw(f)
        except Exception as e:  # noqa: BLE001 - surfaced by the test
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def fetch_frame(conn: KafkaConn, topic: str, max_wait_ms: int,
                client_id_bytes: int = 8) -> Tuple[int, bytes]:
    """A Fetch v4 of partition 0 from offset 0; a long client id makes the request (and so the
    budget it holds while it polls) about `client_id_bytes` large."""
    conn._corr += 1
    return conn._corr, encode_request(API_FETCH, 4, conn._corr,
                                      encode_fetch_v4(topic, 0, 0, max_wait_ms=max_wait_ms),
                                      client_id="f" * client_id_bytes)


def produce_frame(conn: KafkaConn, topic: str, batch: bytes) -> Tuple[int, bytes]:
    conn._corr += 1
    return conn._corr, encode_request(API_PRODUCE, 3, conn._corr,
                                      encode_produce_v3(topic, 0, batch, acks=-1))


# --------------------------------------------------------------------------------------------
def test_connection_budget_wait_is_reported_as_throttle_and_nothing_is_lost(broker_factory,
                                                                              capsys):
    """A 64 KiB connection budget; one connection pipelines a long-poll Fetch of ~30 KiB (a long
    client id) and then 24 Produce requests of ~40 KiB each. Each Produce fits the budget alone
    but not beside the Fetch or another Produce, so the first one cannot be read until the
    Fetch's response is written: it waits (throttle_time_ms > 0), and each later one waits for
    the one before.
    Meanwhile a second connection is served normally. At the end every Produce succeeded, at
    contiguous offsets, and the partition holds exactly the bytes that were sent."""
    b = broker_factory(extra_args=["--connection-memory-bytes", "65536"])
    bs = b.bootstrap
    data_topic, poll_topic, other_topic = (unique_topic(f"bp-{x}") for x in ("data", "poll", "o"))
    for t in (data_topic, poll_topic, other_topic):
        create_topic(bs, t)

    n_batches, per_batch, size = 24, 10, 4000
    batches = [big_batch(i, per_batch, size) for i in range(n_batches)]
    assert 30000 + len(batches[0]) > 65536 and 2 * len(batches[0]) > 65536
    with KafkaConn.to(bs, timeout=30) as c1, KafkaConn.to(bs, timeout=30) as c2:
        fetch_corr, f = fetch_frame(c1, poll_topic, LONG_POLL_MS, client_id_bytes=30000)
        frames, corrs = [f], []
        for batch in batches:
            corr, pf = produce_frame(c1, data_topic, batch)
            frames.append(pf)
            corrs.append(corr)
        sender, send_errors = send_in_thread(c1, frames)

        # While c1's fetch holds its budget, c1 gets nothing back and c2 is served.
        time.sleep(0.5)
        assert not has_pending_bytes(c1), "c1 got a response although its fetch is still polling"
        t0 = time.monotonic()
        res = produce_v3(c2, other_topic, 0, big_batch(999, 1, 100))
        other_ms = (time.monotonic() - t0) * 1000
        assert res.error_code == NONE, f"produce on a second connection: error {res.error_code}"
        assert not has_pending_bytes(c1, 0.2), \
            "c1's long poll ended before anything was produced to its topic"

        # End the poll by producing to its topic: c1's pipeline drains.
        assert produce_v3(c2, poll_topic, 0, big_batch(998, 1, 10)).error_code == NONE
        fetch_resp = read_responses(c1, [fetch_corr], timeout=20)[0]
        fetch_throttle, fetch_parts = parse_fetch_v4_response(fetch_resp)
        assert fetch_parts and fetch_parts[0].error_code == NONE, fetch_parts
        produce_results = []
        for r in read_responses(c1, corrs, timeout=60):
            results, throttle = parse_produce_v3_response(r)
            assert len(results) == 1, results
            produce_results.append((results[0][1], throttle))
        sender.join(10)
        assert not sender.is_alive() and not send_errors, f"sending failed: {send_errors}"

    throttles = [t for _r, t in produce_results]
    errors = [(i, r.error_code) for i, (r, _t) in enumerate(produce_results) if r.error_code]
    with capsys.disabled():
        print(f"\nback-pressure(connection 64 KiB): {n_batches} pipelined produces of "
              f"{per_batch * size // 1024} KiB, throttle_time_ms first={throttles[0]} "
              f"rest={throttles[1:]}; "
              f"fetch throttle={fetch_throttle}; other connection served in {other_ms:.0f} ms")
    assert not errors, f"produce errors (request index, code): {errors}"
    assert throttles[0] > 0, \
        f"the produce pipelined behind a long-polling fetch waited for the connection budget " \
        f"but reported throttle_time_ms={throttles[0]} (all: {throttles})"
    bases = [r.base_offset for r, _t in produce_results]
    assert bases == [i * per_batch for i in range(n_batches)], f"base offsets {bases}"

    records, hw = read_partition_records(bs, data_topic, 0)
    assert hw == n_batches * per_batch
    want = [value_of(i, j, size) for i in range(n_batches) for j in range(per_batch)]
    got = [r.value for r in records]
    assert [r.offset for r in records] == list(range(hw))
    assert got == want, "the stored records differ from those produced"


def test_global_budget_wait_throttles_another_connection(broker_factory, capsys):
    """A 4 KiB broker-wide budget: while one connection's long-poll Fetch (made ~3.5 KiB by a
    long client id) holds it, a Produce on another connection cannot be read until the Fetch
    completes; it then succeeds and reports the wait as throttle_time_ms > 0."""
    b = broker_factory(extra_args=["--global-memory-bytes", "4096",
                                   "--connection-memory-bytes", "4096"])
    bs = b.bootstrap
    data_topic, poll_topic = unique_topic("bp-g-data"), unique_topic("bp-g-poll")
    create_topic(bs, data_topic)
    create_topic(bs, poll_topic)

    poll_ms = 1500
    seen = []
    # A few attempts: the Fetch must reach the broker before the Produce, which a loaded machine
    # could (very rarely) delay past the 0.3 s head start.
    for attempt in range(3):
        with KafkaConn.to(bs, timeout=30) as c1, KafkaConn.to(bs, timeout=30) as c2:
            fetch_corr, f = fetch_frame(c1, poll_topic, poll_ms, client_id_bytes=3500)
            c1.send_raw(f)
            time.sleep(0.3)
            t0 = time.monotonic()
            res_reader = c2.request(API_PRODUCE, 3,
                                    encode_produce_v3(data_topic, 0, big_batch(attempt, 1, 500)))
            waited_ms = (time.monotonic() - t0) * 1000
            results, throttle = parse_produce_v3_response(res_reader)
            assert len(results) == 1 and results[0][1].error_code == NONE, results
            fetch_throttle, parts = parse_fetch_v4_response(read_responses(c1, [fetch_corr], 20)[0])
            assert parts and parts[0].error_code == NONE, parts
            seen.append((throttle, round(waited_ms)))
            if throttle > 0:
                break
    with capsys.disabled():
        print(f"\nback-pressure(global 4 KiB): (throttle_time_ms, client-side wait ms) per "
              f"attempt: {seen}")
    assert seen[-1][0] > 0, \
        f"a produce that waited behind another connection's fetch for the global budget " \
        f"reported no throttle: {seen}"
    records, hw = read_partition_records(bs, data_topic, 0)
    assert hw == len(seen) and [r.value for r in records] == \
        [value_of(i, 0, 500) for i in range(len(seen))]


def test_request_larger_than_the_budgets_is_served_alone(broker_factory):
    """Budgets of 16 KiB and Produce requests of ~256 KiB: each is let through once nothing else
    holds the budget (budget.h), so a single one succeeds, and pipelined ones succeed one after
    the other, with their data intact."""
    b = broker_factory(extra_args=["--global-memory-bytes", "16384",
                                   "--connection-memory-bytes", "16384"])
    bs = b.bootstrap
    topic = unique_topic("bp-large")
    create_topic(bs, topic)
    per_batch, size = 4, 64 * 1024
    with KafkaConn.to(bs, timeout=30) as c:
        res = produce_v3(c, topic, 0, big_batch(0, per_batch, size))
        assert res.error_code == NONE and res.base_offset == 0, res

        frames, corrs = [], []
        for i in range(1, 5):
            corr, f = produce_frame(c, topic, big_batch(i, per_batch, size))
            frames.append(f)
            corrs.append(corr)
        sender, send_errors = send_in_thread(c, frames)
        results = [parse_produce_v3_response(r)[0][0][1] for r in read_responses(c, corrs, 60)]
        sender.join(10)
        assert not send_errors, send_errors
    assert [(r.error_code, r.base_offset) for r in results] == \
        [(NONE, i * per_batch) for i in range(1, 5)], results
    records, hw = read_partition_records(bs, topic, 0)
    assert hw == 5 * per_batch
    assert [r.value for r in records] == \
        [value_of(i, j, size) for i in range(5) for j in range(per_batch)]


def test_librdkafka_produces_and_consumes_through_a_tiny_connection_budget(broker_factory):
    """A real client against a 2 KiB connection budget (each ~10 KiB Produce is read only when
    nothing else of its connection is in flight): all 5,000 messages are delivered and read
    back in order."""
    b = broker_factory(extra_args=["--connection-memory-bytes", "2048"])
    bs = b.bootstrap
    topic = unique_topic("bp-rdkafka")
    create_topic(bs, topic, partitions=2)
    n = 5000
    msgs = [{"value": b"v%06d" % i + b"." * 200, "partition": i % 2} for i in range(n)]
    reports = produce_ok(bs, topic, msgs, timeout=90, acks="all", linger_ms=2,
                         batch_num_messages=50)
    assert len(reports) == n
    c = consumer(bs)
    try:
        c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
        got = consume_n(c, n, timeout=60)
    finally:
        c.close()
    for p in (0, 1):
        vals = [g.value for g in got if g.partition == p]
        assert vals == [m["value"] for m in msgs if m["partition"] == p]
