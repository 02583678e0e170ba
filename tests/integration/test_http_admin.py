"""The HTTP admin API (src/http) and the `tern queue` / `tern vhost` commands over it.

Queues are declared and filled with python3-pika, then looked at, purged and deleted with the
CLI: depth (ready), unacknowledged messages held by a consumer, consumer count. `tern vhost
add` makes a vhost pika can connect to; `tern vhost delete` removes it. The API is also called
directly (status codes, JSON error bodies), and malformed HTTP over raw sockets gets its 4xx
or 5xx and a closed connection while the broker keeps serving.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid

import pika
import pytest

from tern_helpers import (amqp_connect, amqp_listen_args, free_port, http_address_of,
                          http_call, http_listen_args, http_port_of, wait_amqp_serving,
                          wait_http_serving, wait_until)

BROKER_ARGS = [*amqp_listen_args(), *http_listen_args()]


def qname(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def broker(shared_broker):
    wait_amqp_serving(shared_broker)
    wait_http_serving(shared_broker)
    return shared_broker


@pytest.fixture
def conn(broker):
    c = amqp_connect(broker)
    try:
        yield c
    finally:
        if c.is_open:
            c.close()


def tern(tern_binary, broker, *args, env=None, timeout=30):
    """Runs `tern <args> --http <broker's admin API>` (no --http if broker is None)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("TERN_")}
    e.update(env or {})
    cmd = [tern_binary, *args]
    if broker is not None:
        cmd += ["--http", http_address_of(broker)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e,
                          stdin=subprocess.DEVNULL)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def describe(tern_binary, broker, name, vhost="/"):
    return json.loads(ok(tern(tern_binary, broker, "queue", "describe", name, "--vhost", vhost,
                              "--json")))


def publish(ch, q, n, prefix="m"):
    for i in range(n):
        ch.basic_publish("", q, f"{prefix}-{i}".encode(),
                         properties=pika.BasicProperties(delivery_mode=2))


def row_of(table: str, name: str):
    for line in table.splitlines():
        cells = line.split()
        if len(cells) >= 2 and cells[1] == name:
            return cells
    raise AssertionError(f"no row for {name} in:\n{table}")


# --------------------------------------------------------------------------------------------
# tern queue.
def test_queue_list_and_describe_show_depth_unacked_and_consumers(tern_binary, broker, conn):
    q = qname("counts")
    ch = conn.channel()
    ch.queue_declare(q, durable=True)
    publish(ch, q, 5)

    # A consumer on another connection holds two messages without acking them.
    holder = amqp_connect(broker)
    try:
        hch = holder.channel()
        hch.basic_qos(prefetch_count=2)
        got = []
        hch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag), auto_ack=False)
        deadline = time.monotonic() + 10
        while len(got) < 2:
            assert time.monotonic() < deadline, f"consumer got {len(got)} of 2 deliveries"
            holder.process_data_events(time_limit=0.1)

        d = wait_until(lambda: (lambda d: d if d["messages_unacknowledged"] == 2 else None)(
            describe(tern_binary, broker, q)), 10, what="2 unacked in describe")
        assert d["messages_ready"] == 3
        assert d["messages"] == 5
        assert d["consumers"] == 1
        assert d["durable"] is True and d["exclusive"] is False and d["vhost"] == "/"

        text = ok(tern(tern_binary, broker, "queue", "describe", q))
        assert f"Queue:        {q}\n" in text
        assert "Ready:        3\n" in text and "Unacked:      2\n" in text
        assert "Consumers:    1\n" in text

        table = ok(tern(tern_binary, broker, "queue", "list"))
        assert table.splitlines()[0].split() == ["VHOST", "NAME", "MESSAGES", "READY",
                                                 "UNACKED", "CONSUMERS", "FLAGS"]
        assert row_of(table, q) == ["/", q, "5", "3", "2", "1", "durable"]
        listed = json.loads(ok(tern(tern_binary, broker, "queue", "list", "--vhost", "/",
                                    "--json")))
        assert any(e["name"] == q and e["messages_ready"] == 3 for e in listed)
    finally:
        holder.close()

    # The consumer's connection closed: its two messages are ready again, no consumer left.
    d = wait_until(lambda: (lambda d: d if d["messages_ready"] == 5 else None)(
        describe(tern_binary, broker, q)), 10, what="messages back after the consumer left")
    assert d["messages_unacknowledged"] == 0 and d["consumers"] == 0


def test_queue_purge_then_delete(tern_binary, broker, conn):
    q = qname("purge")
    ch = conn.channel()
    ch.queue_declare(q)
    publish(ch, q, 4)
    wait_until(lambda: describe(tern_binary, broker, q)["messages_ready"] == 4, 10,
               what="4 ready")

    out = ok(tern(tern_binary, broker, "queue", "purge", q))
    assert out == f"Purged 4 messages from queue {q} in vhost /.\n"
    assert describe(tern_binary, broker, q)["messages"] == 0
    m, _p, _b = ch.basic_get(q, auto_ack=True)
    assert m is None

    # --if-empty refuses a queue with messages; --if-unused one with a consumer.
    publish(ch, q, 1)
    wait_until(lambda: describe(tern_binary, broker, q)["messages_ready"] == 1, 10,
               what="1 ready")
    p = tern(tern_binary, broker, "queue", "delete", q, "--if-empty")
    assert p.returncode == 1 and "precondition_failed" in p.stderr and "not empty" in p.stderr, \
        p.stderr
    consumer_ch = conn.channel()
    consumer_ch.basic_qos(prefetch_count=0)
    tag = consumer_ch.basic_consume(q, lambda *a: None, auto_ack=False)
    wait_until(lambda: describe(tern_binary, broker, q)["consumers"] == 1, 10,
               what="1 consumer")
    p = tern(tern_binary, broker, "queue", "delete", q, "--if-unused")
    assert p.returncode == 1 and "in use" in p.stderr, p.stderr
    consumer_ch.basic_cancel(tag)
    consumer_ch.close()

    out = ok(tern(tern_binary, broker, "queue", "delete", q, "--json"))
    assert json.loads(out)["name"] == q
    p = tern(tern_binary, broker, "queue", "describe", q)
    assert p.returncode == 1 and p.stderr.startswith("tern: not_found:"), p.stderr
    p = tern(tern_binary, broker, "queue", "delete", q)
    assert p.returncode == 1 and "not_found" in p.stderr
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        conn.channel().queue_declare(q, passive=True)
    assert e.value.reply_code == 404


# --------------------------------------------------------------------------------------------
# tern vhost.
def test_vhost_add_connect_and_delete(tern_binary, broker):
    vhost = f"dev-{uuid.uuid4().hex[:6]}"
    assert ok(tern(tern_binary, broker, "vhost", "add", vhost)) == f"Created vhost {vhost}.\n"
    assert ok(tern(tern_binary, broker, "vhost", "add", vhost)) == \
        f"Vhost {vhost} already exists.\n"
    names = ok(tern(tern_binary, broker, "vhost", "list")).split()
    assert names[0] == "NAME" and "/" in names and vhost in names

    c = amqp_connect(broker, vhost=vhost)
    q = qname("in-vhost")
    try:
        ch = c.channel()
        ch.queue_declare(q)
        publish(ch, q, 3)
        d = wait_until(lambda: (lambda d: d if d["messages_ready"] == 3 else None)(
            describe(tern_binary, broker, q, vhost=vhost)), 10, what="3 ready in the vhost")
        assert d["vhost"] == vhost
        table = ok(tern(tern_binary, broker, "queue", "list", "--vhost", vhost))
        assert row_of(table, q)[0] == vhost
        assert q not in ok(tern(tern_binary, broker, "queue", "list", "--vhost", "/"))
        # The same name in the default vhost does not exist.
        assert tern(tern_binary, broker, "queue", "describe", q).returncode == 1
    finally:
        if c.is_open:
            c.close()

    assert ok(tern(tern_binary, broker, "vhost", "delete", vhost)) == f"Deleted vhost {vhost}.\n"
    assert vhost not in ok(tern(tern_binary, broker, "vhost", "list")).split()
    p = tern(tern_binary, broker, "vhost", "delete", vhost)
    assert p.returncode == 1 and "not_found" in p.stderr
    p = tern(tern_binary, broker, "queue", "list", "--vhost", vhost)
    assert p.returncode == 1 and "not_found" in p.stderr
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        amqp_connect(broker, vhost=vhost)


def test_cli_reports_an_unreachable_api_and_reads_tern_http(tern_binary, broker):
    dead = f"127.0.0.1:{free_port()}"
    p = tern(tern_binary, None, "queue", "list", "--http", dead, "--timeout-ms", "3000")
    assert p.returncode == 1 and "connect to" in p.stderr, p.stderr
    # TERN_HTTP is used when --http is not given...
    p = tern(tern_binary, None, "vhost", "list", env={"TERN_HTTP": http_address_of(broker)})
    assert p.returncode == 0 and "/" in p.stdout.split(), p.stderr
    # ...and a flag beats it.
    p = tern(tern_binary, None, "vhost", "list", "--http", http_address_of(broker),
             env={"TERN_HTTP": dead})
    assert p.returncode == 0, p.stderr
    # Usage errors are CLI11's.
    assert tern(tern_binary, None, "queue", "describe").returncode > 100


# --------------------------------------------------------------------------------------------
# The API itself.
def test_api_status_codes_and_json_errors(broker, conn):
    status, body = http_call(broker, "GET", "/api/overview")
    assert status == 200 and body["product_name"] == "Tern"
    protocols = {(l["protocol"], l["port"]) for l in body["listeners"]}
    assert ("http", http_port_of(broker)) in protocols
    assert any(p == "amqp" for p, _ in protocols)

    status, body = http_call(broker, "GET", "/api/queues/%2F/no-such-queue")
    assert status == 404 and body["error"] == "not_found" and "no-such-queue" in body["reason"]
    status, body = http_call(broker, "GET", "/api/queues/no-such-vhost")
    assert status == 404 and body["error"] == "not_found"
    status, body = http_call(broker, "POST", "/api/queues")
    assert status == 405 and body["error"] == "method_not_allowed"
    status, body = http_call(broker, "GET", "/api/nothing-here")
    assert status == 404
    status, body = http_call(broker, "GET", "/api/queues/%zz")
    assert status == 400

    q = qname("api")
    conn.channel().queue_declare(q)
    status, body = http_call(broker, "GET", f"/api/queues/%2F/{q}")
    assert status == 200 and body["name"] == q and body["vhost"] == "/"
    assert {"durable", "exclusive", "auto_delete", "messages_ready", "messages_unacknowledged",
            "messages", "consumers"} <= set(body)
    status, body = http_call(broker, "GET", "/api/queues/%2F")
    assert status == 200 and any(e["name"] == q for e in body)

    v = f"api-{uuid.uuid4().hex[:6]}"
    assert http_call(broker, "PUT", f"/api/vhosts/{v}")[0] == 201
    assert http_call(broker, "PUT", f"/api/vhosts/{v}")[0] == 204
    assert http_call(broker, "GET", f"/api/vhosts/{v}") == (200, {"name": v})
    assert http_call(broker, "DELETE", f"/api/vhosts/{v}")[0] == 204
    assert http_call(broker, "DELETE", f"/api/vhosts/{v}")[0] == 404


def test_keep_alive_serves_several_requests_on_one_connection(broker):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", http_port_of(broker), timeout=10)
    try:
        for _ in range(3):
            c.request("GET", "/api/vhosts")
            r = c.getresponse()
            assert r.status == 200 and json.loads(r.read())
        c.request("GET", "/api/nothing")
        r = c.getresponse()
        r.read()
        assert r.status == 404
        c.request("GET", "/api/overview")
        assert c.getresponse().status == 200
    finally:
        c.close()


def raw_exchange(broker, data: bytes, timeout: float = 10.0) -> bytes:
    """Sends `data` and reads until the broker closes the connection."""
    with socket.create_connection(("127.0.0.1", http_port_of(broker)), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the broker may close before reading everything (a huge header)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


@pytest.mark.parametrize("name,data,status", [
    ("huge_header", b"GET /api/queues HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
     b"\r\n\r\n", 431),
    ("huge_request_line", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 414),
    ("bad_request_line", b"HELLO THERE\r\n\r\n", 400),
    ("binary_garbage", bytes(range(256)) + b"\r\n\r\n", 400),
    ("missing_host", b"GET /api/queues HTTP/1.1\r\n\r\n", 400),
    ("http2", b"GET /api/queues HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("chunked", b"PUT /api/vhosts/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", 501),
    ("body_too_large", b"PUT /api/vhosts/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n"
     b"\r\n", 413),
    ("bad_length", b"PUT /api/vhosts/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400),
])
def test_bad_http_gets_an_error_and_a_closed_connection(broker, name, data, status):
    reply = raw_exchange(broker, data)
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n")[0]
    assert status_line.startswith(f"HTTP/1.1 {status} ".encode()), reply[:300]
    assert b"Connection: close" in head
    assert json.loads(body)["reason"]
    # The broker carries on: HTTP and AMQP both still answer.
    assert http_call(broker, "GET", "/api/vhosts")[0] == 200
    amqp_connect(broker).close()


def test_pipelined_requests_are_answered_in_order(broker):
    reqs = b"".join(f"GET /api/vhosts/{v} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                    for v in ("%2F", "nope", "%2F"))
    reqs += b"GET /api/overview HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = raw_exchange(broker, reqs)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)
    assert statuses == [b"200", b"404", b"200", b"200"], reply[:500]
