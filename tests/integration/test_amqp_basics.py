"""AMQP 0-9-1 basics with real clients: logging in (PLAIN with pika and amqp-tools, AMQPLAIN
over a raw socket), refused logins and vhosts, channels, heartbeat negotiation, amqp-tools round
trips, publisher confirms, transactions, and malformed input over a raw socket.

One broker serves the module (unique queue names per test); the bad-input tests check that it
keeps serving other clients afterwards.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time
import uuid

import pika
import pytest

import amqp_wire as aw
from tern_helpers import (amqp_connect, amqp_get_all, amqp_listen_args, amqp_message_count,
                          amqp_port_of, amqp_wait_count)

BROKER_ARGS = amqp_listen_args()
TOOL_TIMEOUT_S = 15


def qname(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


def tool(broker, name, *args, stdin=None):
    """Runs an amqp-tools command against the broker; returns the CompletedProcess."""
    cmd = [name, "--server", "127.0.0.1", "--port", str(amqp_port_of(broker)), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=TOOL_TIMEOUT_S)


def assert_serving(broker) -> None:
    """A fresh client can still declare, publish and get a message."""
    with amqp_connect(broker) as conn:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, b"canary")
        (_m, _p, body), = amqp_get_all(ch, q, 1)
        assert body == b"canary"


# --------------------------------------------------------------------------------------------
# Connecting.
def test_pika_plain_login_and_server_properties(shared_broker):
    with amqp_connect(shared_broker) as conn:
        props = conn._impl.server_properties
        caps = props["capabilities"]
        for c in ("publisher_confirms", "basic.nack", "consumer_cancel_notify",
                  "exchange_exchange_bindings", "per_consumer_qos",
                  "authentication_failure_close"):
            assert caps.get(c) is True, f"capability {c} missing: {caps}"
        assert props["product"] == b"Tern" or props["product"] == "Tern"
        assert conn.is_open


def test_amqplain_login_over_raw_socket(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake(mechanism="AMQPLAIN") is None
        w.open_channel(1)
        msgs, consumers = w.declare_queue(1, qname("amqplain"), durable=False)
        assert (msgs, consumers) == (0, 0)


@pytest.mark.parametrize("mechanism", ["PLAIN", "AMQPLAIN"])
def test_wrong_password_is_refused_with_access_refused(shared_broker, mechanism):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        close = w.handshake(password="wrong", mechanism=mechanism)
        assert close is not None, "login with a wrong password succeeded"
        code, text = close.close_reason()
        assert code == aw.ACCESS_REFUSED, (code, text)
        assert "ACCESS_REFUSED" in text


def test_unknown_mechanism_is_refused(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        w.send(aw.PROTOCOL_HEADER)
        start = w.expect(aw.CONNECTION_START)
        assert b"PLAIN" in start.payload and b"AMQPLAIN" in start.payload
        w.send(aw.method_frame(0, aw.CONNECTION_START_OK,
                               aw.start_ok_args("UNSUPPORTED", b"x")))
        code, _text = w.expect_connection_close()
        assert code == aw.ACCESS_REFUSED


def test_pika_wrong_password_raises(shared_broker):
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        amqp_connect(shared_broker, password="nope")
    assert "ACCESS_REFUSED" in repr(e.value) or "403" in repr(e.value), repr(e.value)


def test_unknown_vhost_is_not_allowed(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        close = w.handshake(vhost="no-such-vhost")
        assert close is not None, "connection.open to an unknown vhost succeeded"
        code, text = close.close_reason()
        assert code == aw.NOT_ALLOWED, (code, text)
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        amqp_connect(shared_broker, vhost="no-such-vhost")
    assert "530" in repr(e.value) or "NOT_ALLOWED" in repr(e.value), repr(e.value)


def test_amqp_tools_login_with_wrong_password_fails(shared_broker):
    r = tool(shared_broker, "amqp-declare-queue", "--username", "guest", "--password", "bad",
             "-q", qname("tools-bad"))
    assert r.returncode != 0


def test_many_channels_on_one_connection(shared_broker):
    with amqp_connect(shared_broker) as conn:
        channels = [conn.channel() for _ in range(100)]
        assert len({c.channel_number for c in channels}) == 100
        q = qname("many-ch")
        channels[0].queue_declare(q, auto_delete=False)
        for i, c in enumerate(channels):
            c.basic_publish("", q, f"from-{i}".encode())
        assert amqp_wait_count(channels[-1], q, 100)
        # Closing half of them leaves the others usable.
        for c in channels[::2]:
            c.close()
        got = amqp_get_all(channels[1], q, 100)
        assert sorted(b for _m, _p, b in got) == sorted(f"from-{i}".encode()
                                                         for i in range(100))
        channels[1].queue_delete(q)


@pytest.mark.parametrize("asked", [0, 5])
def test_heartbeat_negotiation(shared_broker, asked):
    with amqp_connect(shared_broker, heartbeat=asked) as conn:
        assert conn._impl.params.heartbeat == asked
        # The broker keeps a quiet connection with heartbeats (or none) open.
        conn.sleep(1.5 if asked == 0 else 3.0)
        ch = conn.channel()
        ch.queue_declare("", exclusive=True)


def test_heartbeats_are_sent_by_the_server(shared_broker):
    """With heartbeat=2 negotiated a silent client receives heartbeat frames (about every
    second)."""
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake(heartbeat=2) is None
        f = w.read_frame(timeout=6, skip_heartbeats=False)
        assert f.type == aw.FRAME_HEARTBEAT and f.channel == 0


def test_silent_client_is_dropped_after_missed_heartbeats(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake(heartbeat=1) is None
        start = time.monotonic()
        w.read_all_until_closed(timeout=10)  # never answers: dropped after ~2 heartbeats
        assert time.monotonic() - start < 8


# --------------------------------------------------------------------------------------------
# amqp-tools (librabbitmq).
def test_amqp_tools_round_trip(shared_broker):
    q = qname("tools")
    r = tool(shared_broker, "amqp-declare-queue", "-d", "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == q
    for i in range(3):
        r = tool(shared_broker, "amqp-publish", "-r", q, "-p", "-C", "text/plain",
                 "-H", f"n: {i}", "-b", f"hello-{i}")
        assert r.returncode == 0, r.stderr
    r = tool(shared_broker, "amqp-get", "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello-0"
    # amqp-consume runs a command per message with the body on stdin.
    r = tool(shared_broker, "amqp-consume", "-q", q, "-c", "2", "cat")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello-1hello-2"
    r = tool(shared_broker, "amqp-get", "-q", q)
    assert r.returncode != 0  # empty queue
    with amqp_connect(shared_broker) as conn:
        conn.channel().queue_delete(q)


def test_amqp_tools_properties_reach_pika(shared_broker):
    q = qname("tools-props")
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        ch.queue_declare(q)
        r = tool(shared_broker, "amqp-publish", "-r", q, "-p", "-C", "application/json",
                 "-E", "utf-8", "-t", "reply-here", "-H", "k1: v1", "-H", "k2: v2",
                 "-b", '{"a": 1}')
        assert r.returncode == 0, r.stderr
        (m, p, body), = amqp_get_all(ch, q, 1)
        assert body == b'{"a": 1}'
        assert m.routing_key == q and m.exchange == ""
        assert p.delivery_mode == 2
        assert p.content_type == "application/json"
        assert p.content_encoding == "utf-8"
        assert p.reply_to == "reply-here"
        assert p.headers == {"k1": "v1", "k2": "v2"} or \
            p.headers == {"k1": b"v1", "k2": b"v2"}
        ch.queue_delete(q)


def test_amqp_consume_with_prefetch_and_exchange_binding(shared_broker):
    """amqp-consume -e/-r declares its own (auto-delete) queue and binds it; it gets what is
    published to the exchange from then on, and the queue goes when it has finished."""
    q = qname("tools-bind")
    key = qname("tools-key")
    proc = subprocess.Popen(
        ["amqp-consume", "--server", "127.0.0.1", "--port", str(amqp_port_of(shared_broker)),
         "-q", q, "-e", "amq.direct", "-r", key, "-p", "1", "-c", "3", "cat"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with amqp_connect(shared_broker) as conn:
            ch = conn.channel()
            deadline = time.monotonic() + 10
            while proc.poll() is None:  # publishes before the binding exists go nowhere
                ch.basic_publish("amq.direct", key, b"probe")
                conn.sleep(0.05)
                assert time.monotonic() < deadline, "amqp-consume did not get 3 messages"
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err
    assert out == b"probe" * 3
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.queue_declare(q, passive=True)
        assert e.value.reply_code == 404  # auto-deleted


# --------------------------------------------------------------------------------------------
# Publisher confirms and transactions.
def test_publisher_confirms(shared_broker):
    q = qname("confirms")
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare(q, durable=True)
        for i in range(50):
            ch.basic_publish("", q, f"c{i}".encode(),
                             properties=pika.BasicProperties(delivery_mode=2))
        assert amqp_message_count(ch, q) == 50
        # Confirms for a message routed nowhere are acks too.
        ch.basic_publish("", qname("nowhere"), b"lost")
        ch.queue_delete(q)


def test_publisher_confirms_raw_multiple_acks(shared_broker):
    """Pipelined publishes are confirmed in order, every sequence number covered once."""
    q = qname("confirms-raw")
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake() is None
        w.open_channel(1)
        w.declare_queue(1, q, durable=True)
        w.confirm_select(1)
        n = 500
        w.send(b"".join(aw.publish_frames(1, "", q, b"x%d" % i) for i in range(n)))
        confirmed = 0
        while confirmed < n:
            f = w.read_frame()
            assert f.ids == aw.BASIC_ACK, f"expected basic.ack, got {f.ids}"
            tag, multiple = f.ack_args()
            assert tag > confirmed
            assert multiple or tag == confirmed + 1
            confirmed = tag
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        assert amqp_message_count(ch, q) == n
        ch.queue_delete(q)


def test_confirm_and_tx_modes_exclude_each_other(shared_broker):
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.tx_select()
        assert e.value.reply_code == 406


def test_tx_commit_and_rollback(shared_broker):
    q = qname("tx")
    with amqp_connect(shared_broker) as conn:
        ch = conn.channel()
        ch.queue_declare(q)
        ch.tx_select()
        ch.basic_publish("", q, b"rolled-back-1")
        ch.basic_publish("", q, b"rolled-back-2")
        assert amqp_message_count(ch, q) == 0, "uncommitted publishes are visible"
        ch.tx_rollback()
        ch.basic_publish("", q, b"committed-1")
        ch.basic_publish("", q, b"committed-2")
        ch.tx_commit()
        other = conn.channel()
        got = amqp_get_all(other, q, 2, auto_ack=False)
        assert [b for _m, _p, b in got] == [b"committed-1", b"committed-2"]
        time.sleep(0.3)
        assert amqp_message_count(ch, q) == 0, "rolled-back messages arrived"
        # Acks inside a transaction take effect at commit; rolled back, they do not.
        for m, _p, _b in got:
            other.basic_nack(m.delivery_tag, requeue=True)
        txc = conn.channel()
        txc.tx_select()
        got = amqp_get_all(txc, q, 2, auto_ack=False)
        txc.basic_ack(got[0][0].delivery_tag)
        txc.tx_rollback()
        txc.basic_ack(got[1][0].delivery_tag)
        txc.tx_commit()
        txc.close()  # got[0] was never acked (rolled back): it comes back
        (m, _p, body), = amqp_get_all(ch, q, 1)
        assert body == b"committed-1" and m.redelivered
        ch.queue_delete(q)


# --------------------------------------------------------------------------------------------
# Malformed input over a raw socket; the broker answers as RabbitMQ does and keeps serving.
def test_wrong_protocol_header_gets_the_right_one(shared_broker):
    for header in (b"AMQP\x00\x00\x08\x00", b"GET / HTTP/1.1\r\n\r\n", b"AMQP\x01\x01\x00\x0a"):
        with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
            w.send(header)
            assert w.read_all_until_closed(timeout=5) == aw.PROTOCOL_HEADER
    assert_serving(shared_broker)


def test_frame_larger_than_frame_max_is_frame_error(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake(frame_max=4096) is None
        w.open_channel(1)
        w.send(aw.frame(aw.FRAME_BODY, 1, b"x" * 10000))
        code, _text = w.expect_connection_close()
        assert code == aw.FRAME_ERROR
    assert_serving(shared_broker)


def test_announced_size_beyond_frame_max_is_frame_error(shared_broker):
    """Only a header announcing 2 GiB is sent: the broker refuses it without waiting for it
    (nor allocating it)."""
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake() is None
        w.send(struct.pack(">BHI", aw.FRAME_METHOD, 0, 0x7FFFFFF0))
        code, _text = w.expect_connection_close()
        assert code == aw.FRAME_ERROR
    assert_serving(shared_broker)


def test_bad_frame_end_is_frame_error(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake() is None
        w.send(aw.frame(aw.FRAME_METHOD, 1, struct.pack(">HH", *aw.CHANNEL_OPEN) + b"\x00",
                        end=0x00))
        code, _text = w.expect_connection_close()
        assert code == aw.FRAME_ERROR
    assert_serving(shared_broker)


def test_method_on_unopened_channel_is_channel_error(shared_broker):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake() is None
        w.send(aw.method_frame(7, aw.QUEUE_DECLARE, struct.pack(">H", 0) + aw.shortstr("x") +
                               b"\x00" + aw.table({})))
        code, _text = w.expect_connection_close()
        assert code == aw.CHANNEL_ERROR
    assert_serving(shared_broker)


@pytest.mark.parametrize("ids", [(99, 10), (60, 999)])
def test_unknown_class_or_method_is_not_implemented(shared_broker, ids):
    with aw.Wire("127.0.0.1", amqp_port_of(shared_broker)) as w:
        assert w.handshake() is None
        w.open_channel(1)
        w.send(aw.method_frame(1, ids, b"\x00\x00"))
        code, _text = w.expect_connection_close()
        assert code == aw.NOT_IMPLEMENTED
    assert_serving(shared_broker)


def test_truncated_handshake_and_garbage_do_not_hurt(shared_broker):
    port = amqp_port_of(shared_broker)
    # A client that sends half a header and goes away, and one that sends garbage frames.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"AMQ")
    with aw.Wire("127.0.0.1", port) as w:
        assert w.handshake() is None
        w.send(bytes(range(256)) * 4)
        try:
            w.expect_connection_close(timeout=5)
        except aw.WireClosed:
            pass
    assert_serving(shared_broker)
