"""AMQP 0-9-1 durability: what survives a clean restart (SIGTERM) and a crash (SIGKILL).

  * a durable queue keeps its persistent messages, in order; transient messages and
    non-durable queues are gone;
  * durable exchanges and bindings (queue and exchange-to-exchange) survive, non-durable
    exchanges do not;
  * acked messages are not delivered again; unacked ones are, with redelivered=True;
  * crash test: a publisher with confirms sends 20,000 numbered persistent messages while the
    broker is SIGKILLed 3 times and restarted; it reconnects and continues from the first
    unconfirmed number. Afterwards every confirmed message is in the queue (lost = 0);
    duplicates are allowed (at-least-once: a resent message whose first copy was stored but
    not confirmed). Prints `amqp-crash: confirmed=N lost=0 duplicates=D ...`.

Each test starts its own broker (broker_factory) with an AMQP listener on a free port.
"""

from __future__ import annotations

import time
import uuid

import pika
import pytest

import amqp_wire as aw
from tern_helpers import (BrokerKiller, amqp_connect, amqp_get_all, amqp_get_none,
                          amqp_message_count, amqp_port_of, restart_broker, start_amqp_broker)


def qname(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


def missing(conn, queue=None, exchange=None) -> bool:
    ch = conn.channel()
    try:
        if queue:
            ch.queue_declare(queue, passive=True)
        else:
            ch.exchange_declare(exchange, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return True
    ch.close()
    return False


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_durable_queue_persistent_messages_survive_restart(broker_factory, how):
    b = start_amqp_broker(broker_factory)
    durable_q, transient_q = qname("durable"), qname("transient")
    with amqp_connect(b) as conn:
        ch = conn.channel()
        ch.confirm_delivery()  # every persistent message is on disk when its ack comes
        ch.queue_declare(durable_q, durable=True)
        ch.queue_declare(transient_q, durable=False)
        for i in range(100):
            ch.basic_publish("", durable_q, f"p{i}".encode(),
                             properties=pika.BasicProperties(delivery_mode=2,
                                                             headers={"i": i}))
            if i % 2 == 0:
                ch.basic_publish("", durable_q, f"t{i}".encode(),
                                 properties=pika.BasicProperties(delivery_mode=1))
        ch.basic_publish("", transient_q, b"p-in-transient-queue",
                         properties=pika.BasicProperties(delivery_mode=2))
        assert amqp_message_count(ch, durable_q) == 150
    restart_broker(b, kill=(how == "sigkill"))
    with amqp_connect(b) as conn:
        ch = conn.channel()
        assert missing(conn, queue=transient_q)
        ch = conn.channel()
        assert amqp_message_count(ch, durable_q) == 100
        got = amqp_get_all(ch, durable_q, 100)
        assert [body for _m, _p, body in got] == [f"p{i}".encode() for i in range(100)]
        assert [p.headers["i"] for _m, p, _b in got] == list(range(100))
        assert all(p.delivery_mode == 2 for _m, p, _b in got)
        assert not any(m.redelivered for m, _p, _b in got)
        amqp_get_none(ch, durable_q, wait=0)
    # Consumed messages stay consumed across another restart.
    restart_broker(b, kill=(how == "sigkill"))
    with amqp_connect(b) as conn:
        assert amqp_message_count(conn.channel(), durable_q) == 0


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_exchanges_and_bindings_survive_restart(broker_factory, how):
    b = start_amqp_broker(broker_factory)
    topic, fan, temp = qname("dur-topic"), qname("dur-fan"), qname("temp-x")
    q_topic, q_fan = qname("dur-q1"), qname("dur-q2")
    with amqp_connect(b) as conn:
        ch = conn.channel()
        ch.exchange_declare(topic, "topic", durable=True)
        ch.exchange_declare(fan, "fanout", durable=True)
        ch.exchange_declare(temp, "direct", durable=False)
        ch.queue_declare(q_topic, durable=True)
        ch.queue_declare(q_fan, durable=True)
        ch.queue_bind(q_topic, topic, routing_key="a.*")
        ch.exchange_bind(destination=fan, source=topic, routing_key="#.fan")
        ch.queue_bind(q_fan, fan)
    restart_broker(b, kill=(how == "sigkill"))
    with amqp_connect(b) as conn:
        assert missing(conn, exchange=temp)
        ch = conn.channel()
        ch.confirm_delivery()
        ch.exchange_declare(topic, "topic", passive=True)
        ch.basic_publish(topic, "a.b", b"to-topic-queue")
        ch.basic_publish(topic, "a.fan", b"to-both")
        ch.basic_publish(topic, "x.y.fan", b"to-fan-queue")
        got1 = sorted(b for _m, _p, b in amqp_get_all(ch, q_topic, 2))
        got2 = sorted(b for _m, _p, b in amqp_get_all(ch, q_fan, 2))
        assert got1 == [b"to-both", b"to-topic-queue"]
        assert got2 == [b"to-both", b"to-fan-queue"]


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_acked_not_redelivered_unacked_redelivered(broker_factory, how):
    b = start_amqp_broker(broker_factory)
    q = qname("acks")
    conn = amqp_connect(b)
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare(q, durable=True)
        for i in range(10):
            ch.basic_publish("", q, f"a{i}".encode(),
                             properties=pika.BasicProperties(delivery_mode=2))
        got = amqp_get_all(ch, q, 10, auto_ack=False)
        ch.basic_ack(got[3][0].delivery_tag, multiple=True)  # a0..a3 acked
        ch.basic_ack(got[7][0].delivery_tag)                 # a7 acked
        # The acks are on their way to the journal when the next method returns.
        ch.queue_declare(q, passive=True)
        time.sleep(0.3)
        restart_broker(b, kill=(how == "sigkill"))
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - the broker went away under it
            pass
    with amqp_connect(b) as conn:
        ch = conn.channel()
        left = amqp_get_all(ch, q, 5, auto_ack=False)
        assert [body for _m, _p, body in left] == [b"a4", b"a5", b"a6", b"a8", b"a9"]
        assert all(m.redelivered for m, _p, _b in left)
        ch.basic_ack(0, multiple=True)
        amqp_get_none(ch, q, wait=0.2)


def test_clean_shutdown_closes_connections_with_connection_forced(broker_factory):
    """SIGTERM with clients connected (one consuming with unacked messages, one half way
    through the handshake): each running connection gets connection.close 320
    CONNECTION_FORCED, the broker exits 0, and the unacked messages come back after the
    restart."""
    b = start_amqp_broker(broker_factory)
    q = qname("shutdown")
    port = amqp_port_of(b)
    consumer = aw.Wire("127.0.0.1", port)
    half = aw.Wire("127.0.0.1", port)
    try:
        with amqp_connect(b) as conn:
            ch = conn.channel()
            ch.confirm_delivery()
            ch.queue_declare(q, durable=True)
            for i in range(3):
                ch.basic_publish("", q, b"s%d" % i,
                                 properties=pika.BasicProperties(delivery_mode=2))
        assert consumer.handshake() is None
        consumer.open_channel(1)
        consumer.send(aw.method_frame(1, (60, 20), b"\x00\x00" + aw.shortstr(q) +
                                      aw.shortstr("ctag") + b"\x00" + aw.table({})))
        consumer.expect((60, 21))  # consume-ok; the 3 deliveries follow, never acked
        half.send(aw.PROTOCOL_HEADER)
        half.expect(aw.CONNECTION_START)
        b.stop()  # SIGTERM: exit code 0 asserted
        code, text = consumer.expect_connection_close(timeout=10)
        assert code == 320 and "CONNECTION_FORCED" in text, (code, text)
    finally:
        consumer.close()
        half.close()
    restart_broker(b)  # stopped already: starts it on the same ports and data
    with amqp_connect(b) as conn:
        ch = conn.channel()
        got = amqp_get_all(ch, q, 3)
        assert [body for _m, _p, body in got] == [b"s0", b"s1", b"s2"]
        assert all(m.redelivered for m, _p, _b in got)


def test_delete_is_durable(broker_factory):
    b = start_amqp_broker(broker_factory)
    q, x = qname("deleted"), qname("deleted-x")
    with amqp_connect(b) as conn:
        ch = conn.channel()
        ch.queue_declare(q, durable=True)
        ch.exchange_declare(x, "fanout", durable=True)
        ch.basic_publish("", q, b"x", properties=pika.BasicProperties(delivery_mode=2))
        ch.queue_delete(q)
        ch.exchange_delete(x)
    restart_broker(b, kill=True)
    with amqp_connect(b) as conn:
        assert missing(conn, queue=q)
        assert missing(conn, exchange=x)
        # Redeclared under the same name it is empty.
        ch = conn.channel()
        ch.queue_declare(q, durable=True)
        assert amqp_message_count(ch, q) == 0


# --------------------------------------------------------------------------------------------
# Crash test.
N = 20_000
RATE = 2_500            # messages per second at most, so the kills land mid-stream
WINDOW = 1_000          # unconfirmed messages in flight at most
KILL_FRACTIONS = (0.2, 0.5, 0.8)
BUDGET_S = 150.0
PAD = b"." * 100


def run_publisher(b, q, confirmed: bytearray, state: dict, deadline: float) -> None:
    """Publishes every number in [0, N) until each is confirmed, reconnecting after a crash
    and resending from the first unconfirmed number."""
    port = amqp_port_of(b)
    start = time.monotonic()
    while state["confirmed"] < N:
        assert time.monotonic() < deadline, f"publisher out of time: {state}"
        try:
            w = aw.Wire("127.0.0.1", port, timeout=5)
        except OSError:
            time.sleep(0.05)
            continue
        try:
            if w.handshake() is not None:
                raise aw.WireClosed("refused during start-up")
            w.open_channel(1)
            w.confirm_select(1)
            state["connections"] += 1
            tags = {}           # delivery tag -> number
            next_tag = 1
            lowest_open = 1     # lowest tag not yet confirmed or nacked
            i = confirmed.index(0) if 0 in confirmed else N
            last_progress = time.monotonic()
            while state["confirmed"] < N:
                assert time.monotonic() < deadline, f"publisher out of time: {state}"
                allowed = int((time.monotonic() - start) * RATE) - state["sent"]
                batch = []
                while i < N and len(tags) < WINDOW and len(batch) < min(allowed, 200):
                    if not confirmed[i]:
                        batch.append(aw.publish_frames(1, "", q, b"%08d|" % i + PAD))
                        tags[next_tag] = i
                        next_tag += 1
                    i += 1
                if batch:
                    w.send(b"".join(batch))
                    state["sent"] += len(batch)
                try:
                    f = w.read_frame(timeout=0.02)
                except TimeoutError:
                    if time.monotonic() - last_progress > 10:
                        raise aw.WireClosed("no confirm for 10 s")
                    if i >= N and not tags:
                        i = confirmed.index(0) if 0 in confirmed else N  # nacked ones again
                    continue
                last_progress = time.monotonic()
                if f.ids in (aw.BASIC_ACK, aw.BASIC_NACK):
                    tag, multiple = f.ack_args()
                    done = range(lowest_open, tag + 1) if multiple else [tag]
                    for t in done:
                        n = tags.pop(t, None)
                        if n is None:
                            continue
                        if f.ids == aw.BASIC_ACK:
                            if not confirmed[n]:
                                confirmed[n] = 1
                                state["confirmed"] += 1
                        else:
                            state["nacked"] += 1
                    while lowest_open < next_tag and lowest_open not in tags:
                        lowest_open += 1
                elif f.ids in (aw.CONNECTION_CLOSE, aw.CHANNEL_CLOSE):
                    raise AssertionError(f"broker closed: {f.close_reason()}")
        except (aw.WireClosed, OSError, TimeoutError, AssertionError) as e:
            if isinstance(e, AssertionError) and "broker closed" in str(e):
                raise
            if isinstance(e, AssertionError) and "out of time" in str(e):
                raise
            state["disconnects"] += 1
            time.sleep(0.05)
        finally:
            w.close()


def test_confirmed_messages_survive_repeated_sigkill(broker_factory, capsys):
    begin = time.monotonic()
    deadline = begin + BUDGET_S
    b = start_amqp_broker(broker_factory)
    q = qname("crash")
    with amqp_connect(b) as conn:
        conn.channel().queue_declare(q, durable=True)
    confirmed = bytearray(N)
    state = {"confirmed": 0, "sent": 0, "nacked": 0, "connections": 0, "disconnects": 0}
    killer = BrokerKiller(b, lambda: state["confirmed"], N, KILL_FRACTIONS, deadline, seed=7,
                          margin_s=20).start()
    try:
        run_publisher(b, q, confirmed, state, deadline - 20)
    finally:
        killer.stop()
    assert not killer.errors, killer.errors
    assert len(killer.kills) == len(KILL_FRACTIONS), \
        f"only {len(killer.kills)} kills happened: {killer.kills}"
    # The broker is up (the killer restarted it); read everything back.
    counts = bytearray(N)
    total = 0
    with amqp_connect(b) as conn:
        ch = conn.channel()
        in_queue = amqp_message_count(ch, q)
        ch.basic_qos(prefetch_count=2000)
        read_deadline = time.monotonic() + 60
        for m, _p, body in ch.consume(q, auto_ack=True, inactivity_timeout=1.0):
            if m is None:
                if total >= in_queue or time.monotonic() > read_deadline:
                    break
                continue
            n = int(body[:8])
            assert 0 <= n < N and body == b"%08d|" % n + PAD, body[:40]
            counts[n] = min(counts[n] + 1, 255)
            total += 1
        ch.cancel()
    lost = sum(1 for n in range(N) if confirmed[n] and not counts[n])
    duplicates = total - sum(1 for c in counts if c)
    summary = (f"amqp-crash: confirmed={state['confirmed']} lost={lost} "
               f"duplicates={duplicates} read={total} sent={state['sent']} "
               f"resent={state['sent'] - N} nacked={state['nacked']} "
               f"connections={state['connections']} kills={len(killer.kills)} "
               f"(at confirmed {[k for k, _ in killer.kills]}) "
               f"seconds={time.monotonic() - begin:.1f}")
    with capsys.disabled():
        print("\n" + summary)
    assert total == in_queue, f"read {total} of {in_queue} messages: {summary}"
    assert state["confirmed"] == N, summary
    assert lost == 0, summary
