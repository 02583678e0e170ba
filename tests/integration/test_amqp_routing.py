"""AMQP 0-9-1 routing with pika: the default exchange, direct, fanout, topic (* and #),
headers (x-match all / any), exchange-to-exchange bindings, alternate exchanges, mandatory
publishes returned with basic.return, unbinding, and the errors for missing exchanges.

One broker serves the module; every test uses its own exchange and queue names.
"""

from __future__ import annotations

import time
import uuid

import pika
import pytest

from tern_helpers import amqp_connect, amqp_get_all, amqp_get_none, amqp_listen_args

BROKER_ARGS = amqp_listen_args()


def name(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def ch(shared_broker):
    conn = amqp_connect(shared_broker)
    try:
        c = conn.channel()
        c.confirm_delivery()  # each publish is routed before basic_publish returns
        yield c
    finally:
        if conn.is_open:
            conn.close()


def queues(ch, n: int, hint: str):
    out = []
    for i in range(n):
        q = ch.queue_declare(name(f"{hint}{i}"), exclusive=True).method.queue
        out.append(q)
    return out


def bodies(ch, q: str, n: int):
    return sorted(b for _m, _p, b in amqp_get_all(ch, q, n))


def test_default_exchange_routes_by_queue_name(ch):
    q, = queues(ch, 1, "default")
    ch.basic_publish("", q, b"to-q")
    (m, _p, body), = amqp_get_all(ch, q, 1)
    assert body == b"to-q" and m.exchange == "" and m.routing_key == q
    # Binding to the default exchange is not allowed.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_bind(q, "", routing_key="x")
    assert e.value.reply_code == 403


def test_fanout_to_three_queues(ch):
    x = name("fan")
    ch.exchange_declare(x, "fanout", auto_delete=False)
    qs = queues(ch, 3, "fanq")
    for q in qs:
        ch.queue_bind(q, x, routing_key="ignored")
    for i in range(5):
        ch.basic_publish(x, f"any-{i}", f"m{i}".encode())
    for q in qs:
        assert bodies(ch, q, 5) == [f"m{i}".encode() for i in range(5)]
        amqp_get_none(ch, q, wait=0)
    ch.exchange_delete(x)


def test_direct_exchange(ch):
    x = name("direct")
    ch.exchange_declare(x, "direct")
    qa, qb, qboth = queues(ch, 3, "dq")
    ch.queue_bind(qa, x, routing_key="a")
    ch.queue_bind(qb, x, routing_key="b")
    ch.queue_bind(qboth, x, routing_key="a")
    ch.queue_bind(qboth, x, routing_key="b")
    ch.basic_publish(x, "a", b"A")
    ch.basic_publish(x, "b", b"B")
    ch.basic_publish(x, "c", b"C")
    assert bodies(ch, qa, 1) == [b"A"]
    assert bodies(ch, qb, 1) == [b"B"]
    assert bodies(ch, qboth, 2) == [b"A", b"B"]
    for q in (qa, qb, qboth):
        amqp_get_none(ch, q, wait=0)
    # After unbind, "a" no longer reaches qa.
    ch.queue_unbind(qa, x, routing_key="a")
    ch.basic_publish(x, "a", b"A2")
    assert bodies(ch, qboth, 1) == [b"A2"]
    amqp_get_none(ch, qa, wait=0.1)
    ch.exchange_delete(x)


def test_topic_exchange_star_and_hash(ch):
    x = name("topic")
    ch.exchange_declare(x, "topic")
    patterns = {"star": "stock.*.nyse", "hash": "stock.#", "mid": "*.usd.#", "all": "#",
                "exact": "stock.usd.nyse"}
    qs = {k: ch.queue_declare(name(f"t-{k}"), exclusive=True).method.queue for k in patterns}
    for k, p in patterns.items():
        ch.queue_bind(qs[k], x, routing_key=p)
    keys = ["stock.usd.nyse", "stock.eur.nyse", "stock", "stock.usd", "stock.usd.nyse.extra",
            "bond.usd", "fx.usd.spot.now", ""]
    for k in keys:
        ch.basic_publish(x, k, k.encode() or b"<empty>")
    expect = {
        "star": ["stock.usd.nyse", "stock.eur.nyse"],
        "hash": ["stock.usd.nyse", "stock.eur.nyse", "stock", "stock.usd",
                 "stock.usd.nyse.extra"],
        "mid": ["stock.usd.nyse", "stock.usd", "stock.usd.nyse.extra", "bond.usd",
                "fx.usd.spot.now"],
        "all": keys,
        "exact": ["stock.usd.nyse"],
    }
    for k, want in expect.items():
        got = bodies(ch, qs[k], len(want))
        assert got == sorted(w.encode() or b"<empty>" for w in want), k
        amqp_get_none(ch, qs[k], wait=0)
    ch.exchange_delete(x)


def test_headers_exchange_all_and_any(ch):
    x = name("headers")
    ch.exchange_declare(x, "headers")
    q_all, q_any, q_default = queues(ch, 3, "hq")
    ch.queue_bind(q_all, x, arguments={"x-match": "all", "format": "pdf", "type": "report"})
    ch.queue_bind(q_any, x, arguments={"x-match": "any", "format": "pdf", "type": "log"})
    ch.queue_bind(q_default, x, arguments={"format": "zip"})  # x-match defaults to all

    def pub(headers, body):
        ch.basic_publish(x, "ignored", body, properties=pika.BasicProperties(headers=headers))

    pub({"format": "pdf", "type": "report"}, b"pdf-report")
    pub({"format": "pdf", "type": "log"}, b"pdf-log")
    pub({"format": "txt", "type": "log"}, b"txt-log")
    pub({"format": "pdf"}, b"pdf-only")
    pub({"format": "zip", "extra": 1}, b"zip")
    pub({}, b"none")
    assert bodies(ch, q_all, 1) == [b"pdf-report"]
    assert bodies(ch, q_any, 4) == [b"pdf-log", b"pdf-only", b"pdf-report", b"txt-log"]
    assert bodies(ch, q_default, 1) == [b"zip"]
    for q in (q_all, q_any, q_default):
        amqp_get_none(ch, q, wait=0)
    ch.exchange_delete(x)


def test_exchange_to_exchange_bindings(ch):
    src, mid, fan = name("e2e-src"), name("e2e-mid"), name("e2e-fan")
    ch.exchange_declare(src, "topic")
    ch.exchange_declare(mid, "direct")
    ch.exchange_declare(fan, "fanout")
    ch.exchange_bind(destination=mid, source=src, routing_key="orders.*")
    ch.exchange_bind(destination=fan, source=mid, routing_key="orders.eu")
    q_mid, q_fan = queues(ch, 2, "e2eq")
    ch.queue_bind(q_mid, mid, routing_key="orders.us")
    ch.queue_bind(q_fan, fan)
    ch.basic_publish(src, "orders.eu", b"eu")
    ch.basic_publish(src, "orders.us", b"us")
    ch.basic_publish(src, "other.eu", b"other")
    assert bodies(ch, q_mid, 1) == [b"us"]
    assert bodies(ch, q_fan, 1) == [b"eu"]
    amqp_get_none(ch, q_mid, wait=0)
    amqp_get_none(ch, q_fan, wait=0)
    # Cycles do not loop or duplicate.
    ch.exchange_bind(destination=src, source=fan)
    ch.basic_publish(src, "orders.eu", b"eu2")
    assert bodies(ch, q_fan, 1) == [b"eu2"]
    amqp_get_none(ch, q_fan, wait=0.1)
    ch.exchange_unbind(destination=fan, source=mid, routing_key="orders.eu")
    ch.basic_publish(src, "orders.eu", b"eu3")
    amqp_get_none(ch, q_fan, wait=0.1)
    for x in (src, mid, fan):
        ch.exchange_delete(x)


def test_alternate_exchange_catches_unroutable(ch):
    x, ae = name("with-ae"), name("ae")
    ch.exchange_declare(ae, "fanout")
    ch.exchange_declare(x, "direct", arguments={"alternate-exchange": ae})
    q_main, q_ae = queues(ch, 2, "aeq")
    ch.queue_bind(q_main, x, routing_key="known")
    ch.queue_bind(q_ae, ae)
    ch.basic_publish(x, "known", b"routed")
    ch.basic_publish(x, "unknown", b"unroutable", mandatory=True)  # not returned: AE took it
    assert bodies(ch, q_main, 1) == [b"routed"]
    (m, _p, body), = amqp_get_all(ch, q_ae, 1)
    assert body == b"unroutable" and m.routing_key == "unknown"
    ch.exchange_delete(x)
    ch.exchange_delete(ae)


def test_mandatory_unroutable_is_returned(shared_broker):
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        returned = []
        ch.add_on_return_callback(lambda _c, m, p, b: returned.append((m, b)))
        ch.basic_publish("amq.direct", name("nobody"), b"back-to-me", mandatory=True)
        ch.basic_publish("amq.direct", name("nobody"), b"dropped", mandatory=False)
        deadline = time.monotonic() + 5
        while not returned and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)
        conn.process_data_events(time_limit=0.3)
        assert len(returned) == 1, returned
        m, body = returned[0]
        assert body == b"back-to-me"
        assert m.reply_code == 312 and m.reply_text == "NO_ROUTE"
        assert m.exchange == "amq.direct"
        # With confirms, pika reports the return as UnroutableError (and the ack follows).
        ch.confirm_delivery()
        with pytest.raises(pika.exceptions.UnroutableError):
            ch.basic_publish("amq.direct", name("nobody"), b"x", mandatory=True)


def test_missing_and_predeclared_exchanges(ch, shared_broker):
    for x, kind in (("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"),
                    ("amq.headers", "headers"), ("amq.match", "headers")):
        ch.exchange_declare(x, kind, passive=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_publish(name("no-such-exchange"), "k", b"x")
    assert e.value.reply_code == 404
    with amqp_connect(shared_broker) as conn:
        c = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.exchange_declare(name("missing"), "direct", passive=True)
        assert e.value.reply_code == 404
        c = conn.channel()
        x = name("kind")
        c.exchange_declare(x, "direct")
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.exchange_declare(x, "fanout")
        assert e.value.reply_code == 406
        c = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            c.exchange_declare(name("amq.reserved"), "direct")
        assert e.value.reply_code in (403, 406)
        c = conn.channel()
        c.exchange_delete(x)
