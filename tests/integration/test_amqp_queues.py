"""AMQP 0-9-1 queues and consumers with pika: work queues with competing consumers (prefetch 1,
ack on completion), a consumer SIGKILLed while holding messages, basic.get (empty, message
count), ack / nack / reject (single, multiple, requeue or not), basic.recover, prefetch per
consumer and per channel, consumer cancel and cancel notification, exclusive and auto-delete
queues, purge, delete with if-empty / if-unused, redeclaration and passive declaration errors.

Queue arguments (TTL, dead-lettering, limits, priorities, ...) are in test_amqp_queue_args.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pika
import pytest

from tern_helpers import (amqp_connect, amqp_consume_n, amqp_get_all, amqp_get_none,
                          amqp_listen_args, amqp_message_count, amqp_port_of, amqp_wait_count)

BROKER_ARGS = amqp_listen_args()


def qname(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def conn(shared_broker):
    c = amqp_connect(shared_broker)
    try:
        yield c
    finally:
        if c.is_open:
            c.close()


def publish(ch, q, bodies, **props):
    for b in bodies:
        ch.basic_publish("", q, b if isinstance(b, bytes) else b.encode(),
                         properties=pika.BasicProperties(**props) if props else None)


def pump(connection, until, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        connection.process_data_events(time_limit=0.05)


# --------------------------------------------------------------------------------------------
# Work queues.
def test_competing_consumers_each_message_once(shared_broker, conn):
    q = qname("work")
    ch = conn.channel()
    ch.queue_declare(q, durable=True)
    n = 90
    publish(ch, q, [f"job-{i}" for i in range(n)], delivery_mode=2)
    done = {}  # body -> worker
    lock = threading.Lock()
    errors = []
    stop = threading.Event()

    def worker(wid):
        try:
            c = amqp_connect(shared_broker)
            try:
                wch = c.channel()
                wch.basic_qos(prefetch_count=1)
                deadline = time.monotonic() + 30
                for m, _p, body in wch.consume(q, inactivity_timeout=0.1):
                    if stop.is_set() or time.monotonic() > deadline:
                        break
                    if m is None:
                        continue
                    time.sleep(0.01)  # the work
                    with lock:
                        assert body not in done, f"{body} processed twice"
                        done[body] = wid
                        if len(done) == n:
                            stop.set()
                    wch.basic_ack(m.delivery_tag)
                wch.cancel()
            finally:
                c.close()
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert not errors, errors
    assert sorted(done) == sorted(f"job-{i}".encode() for i in range(n))
    per_worker = [list(done.values()).count(w) for w in range(3)]
    assert all(c >= 5 for c in per_worker), f"unfair dispatch with prefetch 1: {per_worker}"
    assert amqp_message_count(ch, q) == 0
    ch.queue_delete(q)


HOLDER = r"""
import json, sys, time, pika
port, q, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port, socket_timeout=10))
ch = c.channel()
ch.basic_qos(prefetch_count=n)
got = []
deadline = time.monotonic() + 20
for m, p, body in ch.consume(q, inactivity_timeout=0.1):
    if m is not None:
        got.append(body.decode())
    if len(got) == n or time.monotonic() > deadline:
        break
print(json.dumps(got), flush=True)
time.sleep(60)  # holding them, never acking, until killed
"""


def test_killed_consumer_messages_go_to_others_redelivered(shared_broker, conn):
    q = qname("killed")
    ch = conn.channel()
    ch.queue_declare(q, durable=True)
    publish(ch, q, [f"k{i}" for i in range(20)], delivery_mode=2)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(amqp_port_of(shared_broker)),
                               q, "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = holder.stdout.readline()  # bounded: the script gives up after 20 s
        held = json.loads(line or b"[]")
        assert len(held) == 5, f"holder got {held}: {holder.stderr.read1(4096) if not line else ''}"
        assert amqp_message_count(ch, q) == 15
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
    got = amqp_consume_n(conn, ch, q, 20, timeout=15, auto_ack=False)
    by_body = {b.decode(): m for m, _p, b in got}
    assert sorted(by_body) == sorted(f"k{i}" for i in range(20))
    for body, m in by_body.items():
        assert m.redelivered == (body in held), (body, m.redelivered)
    ch.basic_ack(0, multiple=True)
    amqp_get_none(ch, q, wait=0.2)
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# basic.get, ack, nack, reject, recover.
def test_basic_get_empty_and_message_count(conn):
    q = qname("get")
    ch = conn.channel()
    ch.queue_declare(q)
    m, p, body = ch.basic_get(q)
    assert m is None
    publish(ch, q, ["a", "b", "c"])
    m, _p, body = ch.basic_get(q, auto_ack=True)
    assert body == b"a" and m.message_count == 2 and not m.redelivered
    m, _p, body = ch.basic_get(q, auto_ack=False)
    assert body == b"b" and m.message_count == 1
    ch.basic_ack(m.delivery_tag)
    m, _p, body = ch.basic_get(q, auto_ack=True)
    assert body == b"c" and m.message_count == 0
    assert ch.basic_get(q)[0] is None
    ch.queue_delete(q)


def test_ack_multiple_and_nack_multiple(conn):
    q = qname("multi")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, [f"m{i}" for i in range(6)])
    got = amqp_get_all(ch, q, 6, auto_ack=False)
    tags = [m.delivery_tag for m, _p, _b in got]
    ch.basic_ack(tags[2], multiple=True)               # m0..m2 done
    ch.basic_nack(tags[4], multiple=True, requeue=True)  # m3, m4 back
    ch.basic_reject(tags[5], requeue=True)             # m5 back
    again = amqp_get_all(ch, q, 3, auto_ack=False)
    assert [b for _m, _p, b in again] == [b"m3", b"m4", b"m5"]
    assert all(m.redelivered for m, _p, _b in again)
    ch.basic_nack(0, multiple=True, requeue=False)  # tag 0 + multiple: everything outstanding
    amqp_get_none(ch, q, wait=0.2)
    ch.queue_delete(q)


def test_reject_without_requeue_drops(conn):
    q = qname("reject")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, ["x", "y"])
    (m1, _p, _b), (m2, _p2, _b2) = amqp_get_all(ch, q, 2, auto_ack=False)
    ch.basic_reject(m1.delivery_tag, requeue=False)
    ch.basic_nack(m2.delivery_tag, requeue=False)
    amqp_get_none(ch, q, wait=0.2)
    ch.queue_delete(q)


def test_unknown_delivery_tag_is_precondition_failed(conn):
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_ack(12345)
        ch.queue_declare("", exclusive=True)  # the close arrives before this answer
    assert e.value.reply_code == 406


def test_basic_recover_redelivers_unacked(conn):
    q = qname("recover")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, ["r1", "r2"])
    got = amqp_consume_n(conn, ch, q, 2, auto_ack=False)
    assert not any(m.redelivered for m, _p, _b in got)
    ch.basic_recover(requeue=True)
    again = amqp_get_all(ch, q, 2, auto_ack=False)
    assert sorted(b for _m, _p, b in again) == [b"r1", b"r2"]
    assert all(m.redelivered for m, _p, _b in again)
    ch.basic_ack(0, multiple=True)
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Prefetch.
def test_prefetch_per_consumer(conn):
    q1, q2 = qname("pc1"), qname("pc2")
    ch = conn.channel()
    for q in (q1, q2):
        ch.queue_declare(q)
        publish(ch, q, [f"{q}-{i}" for i in range(10)])
    ch.basic_qos(prefetch_count=3, global_qos=False)
    got = {q1: [], q2: []}
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b, q=q: got[q].append(m))
    pump(conn, lambda: len(got[q1]) >= 3 and len(got[q2]) >= 3, what="3 deliveries each")
    conn.process_data_events(time_limit=0.5)
    assert (len(got[q1]), len(got[q2])) == (3, 3), "per-consumer prefetch of 3 exceeded"
    ch.basic_ack(got[q1][0].delivery_tag)  # one credit back to consumer 1 only
    pump(conn, lambda: len(got[q1]) == 4, what="a fourth delivery after an ack")
    conn.process_data_events(time_limit=0.3)
    assert (len(got[q1]), len(got[q2])) == (4, 3)
    ch.close()
    c2 = conn.channel()
    c2.queue_delete(q1)
    c2.queue_delete(q2)


def test_prefetch_global_is_per_channel(conn):
    q1, q2 = qname("pg1"), qname("pg2")
    ch = conn.channel()
    for q in (q1, q2):
        ch.queue_declare(q)
        publish(ch, q, [f"{q}-{i}" for i in range(10)])
    ch.basic_qos(prefetch_count=4, global_qos=True)
    got = []
    for q in (q1, q2):
        ch.basic_consume(q, lambda c, m, p, b: got.append(m))
    pump(conn, lambda: len(got) >= 4, what="4 deliveries")
    conn.process_data_events(time_limit=0.5)
    assert len(got) == 4, "channel prefetch of 4 exceeded"
    ch.basic_ack(got[1].delivery_tag, multiple=True)  # two back
    pump(conn, lambda: len(got) >= 6, what="2 more deliveries")
    conn.process_data_events(time_limit=0.3)
    assert len(got) == 6
    ch.close()
    c2 = conn.channel()
    c2.queue_delete(q1)
    c2.queue_delete(q2)


# --------------------------------------------------------------------------------------------
# Consumers.
def test_consumer_cancel_stops_deliveries(conn):
    q = qname("cancel")
    ch = conn.channel()
    ch.queue_declare(q)
    got = []
    tag = ch.basic_consume(q, lambda c, m, p, b: (got.append(b), c.basic_ack(m.delivery_tag)))
    publish(ch, q, ["before"])
    pump(conn, lambda: got == [b"before"], what="delivery before cancel")
    ch.basic_cancel(tag)
    publish(ch, q, ["after"])
    conn.process_data_events(time_limit=0.5)
    assert got == [b"before"]
    assert amqp_message_count(ch, q) == 1
    ch.queue_delete(q)


def test_consumer_cancel_notification_when_queue_deleted(shared_broker, conn):
    q = qname("cancel-notify")
    ch = conn.channel()
    ch.queue_declare(q)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = ch.basic_consume(q, lambda *a: None)
    with amqp_connect(shared_broker) as other:
        other.channel().queue_delete(q)
    pump(conn, lambda: cancelled, what="basic.cancel from the broker")
    assert cancelled == [tag]
    assert ch.is_open


def test_exclusive_queue_is_locked_for_other_connections(shared_broker, conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    assert q.startswith("amq.gen-")
    with amqp_connect(shared_broker) as other:
        for op in (lambda c: c.queue_declare(q, exclusive=True),
                   lambda c: c.basic_consume(q, lambda *a: None),
                   lambda c: c.basic_get(q),
                   lambda c: c.queue_declare(q, passive=True)):
            c = other.channel()
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
                op(c)
            assert e.value.reply_code == 405, e.value
    # Gone with its connection.
    conn.close()
    with amqp_connect(shared_broker) as other:
        c = other.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.queue_declare(q, passive=True)
        assert e.value.reply_code == 404


def test_exclusive_consumer(shared_broker, conn):
    q = qname("excl-consumer")
    ch = conn.channel()
    ch.queue_declare(q)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    with amqp_connect(shared_broker) as other:
        c = other.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.basic_consume(q, lambda *a: None)
        assert e.value.reply_code == 403
    ch.queue_delete(q)


def test_auto_delete_queue_goes_with_its_last_consumer(conn):
    q = qname("autodel")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    ch.queue_declare(q, passive=True)  # still there: one consumer left
    ch.basic_cancel(t2)
    c2 = conn.channel()

    def gone():
        try:
            c = conn.channel()
            c.queue_declare(q, passive=True)
            c.close()
            return False
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404
            return True
    pump(conn, gone, timeout=5, what="auto-delete queue gone")
    c2.close()


def test_purge(conn):
    q = qname("purge")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, [f"p{i}" for i in range(7)])
    (m, _p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)  # one unacked: not purged
    assert ch.queue_purge(q).method.message_count == 6
    assert amqp_message_count(ch, q) == 0
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert amqp_wait_count(ch, q, 1)
    ch.queue_delete(q)


def test_delete_if_empty_and_if_unused(shared_broker, conn):
    q = qname("del")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, ["x"])
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_delete(q, if_empty=True)
    assert e.value.reply_code == 406
    ch = conn.channel()
    ch.basic_consume(q, lambda *a: None)
    other = amqp_connect(shared_broker)
    try:
        oc = other.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            oc.queue_delete(q, if_unused=True)
        assert e.value.reply_code == 406
    finally:
        other.close()
    ch.close()
    ch = conn.channel()
    assert ch.queue_delete(q).method.message_count == 1
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(q, passive=True)
    assert e.value.reply_code == 404


def test_redeclare_with_different_arguments_is_precondition_failed(conn):
    q = qname("redeclare")
    ch = conn.channel()
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 10})
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 10})  # equivalent: fine
    ch.queue_declare(q, passive=True)
    for kw in ({"durable": True, "arguments": {"x-max-length": 11}},
               {"durable": True},
               {"durable": False, "arguments": {"x-max-length": 10}}):
        c = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.queue_declare(q, **kw)
        assert e.value.reply_code == 406, kw
    conn.channel().queue_delete(q)


def test_passive_declare_of_missing_queue_is_not_found(conn):
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(qname("missing"), passive=True)
    assert e.value.reply_code == 404
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare("amq.not-allowed")
    assert e.value.reply_code == 403


def test_declare_ok_counts(shared_broker, conn):
    q = qname("counts")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, ["1", "2", "3"])
    amqp_wait_count(ch, q, 3)
    with amqp_connect(shared_broker) as other:
        oc = other.channel()
        oc.basic_qos(prefetch_count=1)
        oc.basic_consume(q, lambda *a: None)
        other.process_data_events(time_limit=0.3)
        ok = ch.queue_declare(q, passive=True).method
        assert (ok.message_count, ok.consumer_count) == (2, 1)
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Volume.
def test_large_messages_span_many_frames(conn):
    q = qname("large")
    ch = conn.channel()
    ch.queue_declare(q)
    sizes = [0, 1, 131_064, 131_065, 1_000_000, 5_000_000]
    payloads = [bytes([i % 251]) * n for i, n in enumerate(sizes)]
    publish(ch, q, payloads, delivery_mode=2)
    got = amqp_get_all(ch, q, len(sizes))
    assert [len(b) for _m, _p, b in got] == sizes
    assert [b for _m, _p, b in got] == payloads
    ch.queue_delete(q)


def test_no_ack_consumer_receives_a_burst(shared_broker, conn):
    q = qname("burst")
    ch = conn.channel()
    ch.queue_declare(q)
    n = 20_000
    body = b"b" * 200
    for i in range(n):
        ch.basic_publish("", q, b"%06d" % i + body)
    got = amqp_consume_n(conn, ch, q, n, timeout=60, auto_ack=True)
    assert [int(b[:6]) for _m, _p, b in got] == list(range(n))
    amqp_get_none(ch, q, wait=0)
    ch.queue_delete(q)
