"""AMQP 0-9-1 queue arguments with pika: x-message-ttl and per-message expiration (expired
messages gone, or dead-lettered with x-death reason expired), x-dead-letter-exchange and
x-dead-letter-routing-key after reject (x-death reason rejected, count), x-delivery-limit
(reason delivery_limit), x-max-length with drop-head (reason maxlen), reject-publish (publisher
confirms get basic.nack), reject-publish-dlx, x-max-length-bytes, x-max-priority,
x-single-active-consumer, x-expires, x-queue-type, and refused argument values.
"""

from __future__ import annotations

import time
import uuid

import pika
import pytest

from tern_helpers import (amqp_connect, amqp_get_all, amqp_get_none,
                          amqp_listen_args, amqp_message_count, amqp_wait_count, wait_until)

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


@pytest.fixture
def ch(conn):
    return conn.channel()


def dlx_setup(ch, hint: str):
    """A fanout dead-letter exchange and the queue behind it."""
    dlx = qname(f"{hint}-dlx")
    ch.exchange_declare(dlx, "fanout")
    dlq = ch.queue_declare(qname(f"{hint}-dlq"), exclusive=True).method.queue
    ch.queue_bind(dlq, dlx)
    return dlx, dlq


def death(props, i: int = 0):
    deaths = props.headers["x-death"]
    d = deaths[i]
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()}


def publish(ch, q, bodies, exchange: str = "", **props):
    for b in bodies:
        ch.basic_publish(exchange, q, b if isinstance(b, bytes) else b.encode(),
                         properties=pika.BasicProperties(**props) if props else None)


# --------------------------------------------------------------------------------------------
# TTL.
def test_queue_message_ttl_expires_messages(ch):
    q = qname("ttl")
    ch.queue_declare(q, arguments={"x-message-ttl": 200})
    publish(ch, q, ["a", "b"])
    time.sleep(0.6)
    amqp_get_none(ch, q, wait=0)
    assert amqp_message_count(ch, q) == 0
    publish(ch, q, ["fresh"])
    (_m, _p, body), = amqp_get_all(ch, q, 1)
    assert body == b"fresh"
    ch.queue_delete(q)


def test_per_message_expiration(ch):
    q = qname("expiration")
    ch.queue_declare(q)
    publish(ch, q, ["short"], expiration="150")
    publish(ch, q, ["long"], expiration="60000")
    publish(ch, q, ["none"])
    time.sleep(0.5)
    got = amqp_get_all(ch, q, 2)
    assert [b for _m, _p, b in got] == [b"long", b"none"]
    amqp_get_none(ch, q, wait=0)
    ch.queue_delete(q)


def test_invalid_expiration_is_refused(ch):
    q = qname("bad-exp")
    ch.queue_declare(q, exclusive=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        publish(ch, q, ["x"], expiration="soon")
        ch.queue_declare(q, passive=True)
    assert e.value.reply_code == 406


def test_expired_messages_are_dead_lettered(ch):
    dlx, dlq = dlx_setup(ch, "ttl")
    q = qname("ttl-src")
    ch.queue_declare(q, arguments={"x-message-ttl": 100, "x-dead-letter-exchange": dlx})
    publish(ch, q, ["e1"], exchange="", headers={"mine": "kept"})
    publish(ch, q, ["e2"], expiration="50")
    got = amqp_get_all(ch, dlq, 2, timeout=10)
    assert sorted(b for _m, _p, b in got) == [b"e1", b"e2"]
    for _m, p, body in got:
        d = death(p)
        assert d["reason"] == "expired" and d["queue"] == q and d["count"] == 1
        assert d["exchange"] == "" and d["routing-keys"] in ([q], [q.encode()])
        first = p.headers["x-first-death-reason"]
        assert first in ("expired", b"expired")
        assert p.expiration is None  # removed on dead-lettering
        if body == b"e1":
            assert p.headers["mine"] in ("kept", b"kept")
        else:
            assert d["original-expiration"] == "50"
    assert amqp_message_count(ch, q) == 0
    ch.queue_delete(q)
    ch.exchange_delete(dlx)


def test_automatic_dead_letter_cycles_are_dropped(ch):
    """A TTL queue dead-lettering into itself, or two TTL queues into each other, would loop
    forever; as in RabbitMQ the message is dropped when it would re-enter a queue it expired
    in with no rejection in between."""
    selfq, ping, pong = qname("cycle-self"), qname("cycle-ping"), qname("cycle-pong")
    ch.queue_declare(selfq, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": ""})
    ch.queue_declare(ping, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": pong})
    ch.queue_declare(pong, arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": ping})
    publish(ch, selfq, ["self"])
    publish(ch, ping, ["ping"])
    time.sleep(0.8)
    for q in (selfq, ping, pong):
        assert amqp_message_count(ch, q) == 0, q
        ch.queue_delete(q)


def test_cycle_with_a_rejection_is_allowed(ch):
    """A client rejecting a message back into its own queue's DLX loop is not a cycle."""
    q = qname("reject-loop")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": ""})  # back to itself by name
    publish(ch, q, ["again"])
    for n in (1, 2, 3):
        (m, p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
        if n > 1:
            assert death(p)["count"] == n - 1 and death(p)["reason"] == "rejected"
        ch.basic_reject(m.delivery_tag, requeue=False)
    (_m, p, _b), = amqp_get_all(ch, q, 1)
    assert death(p)["count"] == 3
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Dead-lettering on reject, with a routing key, counting repeated deaths.
def test_rejected_messages_dead_lettered_with_routing_key_and_count(ch):
    dlx = qname("rej-dlx")
    ch.exchange_declare(dlx, "direct")
    dlq = ch.queue_declare(qname("rej-dlq"), exclusive=True).method.queue
    ch.queue_bind(dlq, dlx, routing_key="dead")
    q = qname("rej-src")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": dlx,
                                   "x-dead-letter-routing-key": "dead"})
    # The dead-letter queue sends them back to the source after a TTL: a cycle through
    # rejection, so the second death of the same (queue, reason) counts 2.
    publish(ch, q, ["r1"])
    (m, _p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=False)
    (m, p, body), = amqp_get_all(ch, dlq, 1)
    assert body == b"r1"
    assert m.exchange == dlx and m.routing_key == "dead"
    d = death(p)
    assert (d["reason"], d["queue"], d["count"]) == ("rejected", q, 1)
    # Publish it again (headers and all) and reject it again: count becomes 2.
    ch.basic_publish("", q, body, properties=p)
    (m, _p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
    ch.basic_nack(m.delivery_tag, requeue=False)
    (m, p, body), = amqp_get_all(ch, dlq, 1)
    assert len(p.headers["x-death"]) == 1
    d = death(p)
    assert (d["reason"], d["queue"], d["count"]) == ("rejected", q, 2)
    ch.queue_delete(q)
    ch.exchange_delete(dlx)


def test_dead_letter_to_default_exchange(ch):
    dlq = ch.queue_declare(qname("dl-default"), exclusive=True).method.queue
    q = qname("dl-default-src")
    ch.queue_declare(q, arguments={"x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    publish(ch, q, ["via-default"])
    (m, _p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=False)
    (_m, p, body), = amqp_get_all(ch, dlq, 1)
    assert body == b"via-default" and death(p)["reason"] == "rejected"
    ch.queue_delete(q)


def test_delivery_limit_dead_letters(conn, ch):
    dlx, dlq = dlx_setup(ch, "dlim")
    q = qname("dlim-src")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum",
                                                 "x-delivery-limit": 2,
                                                 "x-dead-letter-exchange": dlx})
    publish(ch, q, ["poison"], delivery_mode=2)
    counts = []
    for _ in range(3):  # delivered 3 times: the 3rd return passes the limit of 2
        (m, p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
        counts.append((p.headers or {}).get("x-delivery-count", 0))
        ch.basic_nack(m.delivery_tag, requeue=True)
    # A quorum queue counts returns in x-delivery-count (absent on the first delivery).
    assert counts == [0, 1, 2]
    (_m, p, body), = amqp_get_all(ch, dlq, 1)
    assert body == b"poison" and death(p)["reason"] == "delivery_limit"
    assert amqp_message_count(ch, q) == 0
    ch.queue_delete(q)


def test_classic_queue_redeliveries_keep_publisher_headers(ch):
    q = qname("classic-redeliver")
    ch.queue_declare(q, arguments={"x-queue-type": "classic"})
    publish(ch, q, ["again"], headers={"h": "v"})
    for _ in range(2):
        (m, p, _b), = amqp_get_all(ch, q, 1, auto_ack=False)
        ch.basic_nack(m.delivery_tag, requeue=True)
    (m, p, _b), = amqp_get_all(ch, q, 1)
    assert m.redelivered
    assert set(p.headers) == {"h"}
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Length limits.
def test_max_length_drop_head_dead_letters_oldest(ch):
    dlx, dlq = dlx_setup(ch, "maxlen")
    q = qname("maxlen-src")
    ch.queue_declare(q, arguments={"x-max-length": 3, "x-dead-letter-exchange": dlx})
    publish(ch, q, [f"m{i}" for i in range(5)])
    got = amqp_get_all(ch, q, 3)
    assert [b for _m, _p, b in got] == [b"m2", b"m3", b"m4"]
    dropped = amqp_get_all(ch, dlq, 2)
    assert [b for _m, _p, b in dropped] == [b"m0", b"m1"]
    assert all(death(p)["reason"] == "maxlen" for _m, p, _b in dropped)
    ch.queue_delete(q)


def test_reject_publish_nacks_publisher(conn, ch):
    q = qname("rejpub")
    ch.queue_declare(q, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    publish(ch, q, ["1", "2"])
    with pytest.raises(pika.exceptions.NackError):
        publish(ch, q, ["3"])
    assert amqp_message_count(ch, q) == 2
    # Room again after a get: publishes are accepted.
    amqp_get_all(ch, q, 1)
    publish(ch, q, ["4"])
    got = amqp_get_all(ch, q, 2)
    assert [b for _m, _p, b in got] == [b"2", b"4"]
    ch.queue_delete(q)


def test_reject_publish_dlx(ch):
    dlx, dlq = dlx_setup(ch, "rpdlx")
    q = qname("rpdlx-src")
    ch.queue_declare(q, arguments={"x-max-length": 1, "x-overflow": "reject-publish-dlx",
                                   "x-dead-letter-exchange": dlx})
    ch.confirm_delivery()
    publish(ch, q, ["kept"])
    with pytest.raises(pika.exceptions.NackError):
        publish(ch, q, ["refused"])
    (_m, p, body), = amqp_get_all(ch, dlq, 1)
    assert body == b"refused" and death(p)["reason"] == "maxlen"
    (_m, _p, body), = amqp_get_all(ch, q, 1)
    assert body == b"kept"
    ch.queue_delete(q)


def test_max_length_bytes(ch):
    q = qname("maxbytes")
    ch.queue_declare(q, arguments={"x-max-length-bytes": 100})
    publish(ch, q, [b"a" * 40, b"b" * 40, b"c" * 40])  # 120 bytes: the oldest goes
    got = amqp_get_all(ch, q, 2)
    assert [b[:1] for _m, _p, b in got] == [b"b", b"c"]
    amqp_get_none(ch, q, wait=0)
    ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Priorities, single active consumer, expiry of queues, queue types.
def test_max_priority_delivers_higher_first(ch):
    q = qname("prio")
    ch.queue_declare(q, arguments={"x-max-priority": 10})
    for i, prio in enumerate([1, 5, 0, 9, 5, 20]):
        publish(ch, q, [f"p{prio}-{i}"], priority=prio)
    got = amqp_get_all(ch, q, 6)
    # 20 is capped at max-priority 10; equal priorities keep publish order.
    assert [b for _m, _p, b in got] == [b"p20-5", b"p9-3", b"p5-1", b"p5-4", b"p1-0", b"p0-2"]
    ch.queue_delete(q)


def test_single_active_consumer(shared_broker, conn, ch):
    q = qname("sac")
    ch.queue_declare(q, arguments={"x-single-active-consumer": True})
    got = {"a": [], "b": []}
    ca = conn.channel()
    ta = ca.basic_consume(q, lambda c, m, p, b: (got["a"].append(b),
                                                 c.basic_ack(m.delivery_tag)))
    other = amqp_connect(shared_broker)
    try:
        cb = other.channel()
        cb.basic_consume(q, lambda c, m, p, b: (got["b"].append(b),
                                                c.basic_ack(m.delivery_tag)))
        publish(ch, q, [f"s{i}" for i in range(10)])
        deadline = time.monotonic() + 10
        while len(got["a"]) < 10 and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.05)
            other.process_data_events(time_limit=0.05)
        assert len(got["a"]) == 10 and got["b"] == [], got
        ca.basic_cancel(ta)  # b takes over
        publish(ch, q, ["after"])
        deadline = time.monotonic() + 10
        while not got["b"] and time.monotonic() < deadline:
            other.process_data_events(time_limit=0.05)
        assert got["b"] == [b"after"]
    finally:
        other.close()
    ch.queue_delete(q)


def test_x_expires_deletes_unused_queue(ch, conn):
    q = qname("expires")
    ch.queue_declare(q, arguments={"x-expires": 1000})
    publish(ch, q, ["doomed"])

    def gone():
        try:
            c = conn.channel()
            c.queue_declare(q, passive=True)
            c.close()
            return None
        except pika.exceptions.ChannelClosedByBroker as e:
            return e.reply_code == 404
    assert wait_until(gone, timeout=8, interval=0.25, what="x-expires queue deleted")


@pytest.mark.parametrize("qtype", ["classic", "quorum", "stream"])
def test_queue_types_accepted(ch, qtype):
    q = qname(f"type-{qtype}")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": qtype})
    publish(ch, q, ["t"], delivery_mode=2)
    assert amqp_wait_count(ch, q, 1)
    ch.queue_delete(q)


@pytest.mark.parametrize("args", [{"x-queue-type": "bogus"}, {"x-max-length": -1},
                                  {"x-message-ttl": "soon"}, {"x-overflow": "explode"},
                                  {"x-max-priority": 1000},
                                  {"x-dead-letter-routing-key": "k"}])
def test_invalid_arguments_are_refused(ch, args):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(qname("bad-args"), arguments=args)
    assert e.value.reply_code == 406, args
