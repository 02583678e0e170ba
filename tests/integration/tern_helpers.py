"""Helpers shared by the integration tests: unique names, and thin, bounded wrappers over
python3-confluent-kafka (librdkafka) for creating topics, producing and consuming.

Every wait here has a deadline; a helper that runs out of time fails with what it saw.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

OP_TIMEOUT_S = 15.0

# librdkafka logs through Python logging (captured by pytest, shown with a failed test) instead
# of writing to stderr from its own threads, where it would interleave with pytest's output.
RDKAFKA_LOGGER = logging.getLogger("librdkafka")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unique_topic(hint: str = "t") -> str:
    """A valid, unique topic name that still says which test made it."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", hint).strip("-.")[:80] or "t"
    return f"{base}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------------------------
# Admin.
def admin(bootstrap: str, **conf) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "logger": RDKAFKA_LOGGER, **conf})


def result_of(future, timeout: float = OP_TIMEOUT_S):
    """future.result() that returns the KafkaError instead of raising a KafkaException."""
    try:
        return future.result(timeout=timeout)
    except KafkaException as e:
        return e.args[0]


def error_code_of(future, timeout: float = OP_TIMEOUT_S) -> int:
    """The Kafka error code an admin future ended with (0 for success)."""
    res = result_of(future, timeout)
    if isinstance(res, KafkaError):
        return res.code()
    return 0


def create_topic(bootstrap: str, name: str, partitions: int = 1,
                 config: Optional[Dict[str, str]] = None) -> None:
    a = admin(bootstrap)
    fs = a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                   config=config or {})], request_timeout=OP_TIMEOUT_S)
    res = result_of(fs[name])
    assert not isinstance(res, KafkaError), f"create_topics({name}) failed: {res}"
    wait_topic_visible(bootstrap, name, partitions)


def wait_topic_visible(bootstrap: str, name: str, partitions: Optional[int] = None,
                       timeout: float = OP_TIMEOUT_S) -> None:
    a = admin(bootstrap)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        md = a.list_topics(timeout=5)
        t = md.topics.get(name)
        if t is not None and t.error is None and \
                (partitions is None or len(t.partitions) == partitions):
            return
        last = t
        time.sleep(0.1)
    raise AssertionError(f"topic {name} not visible in metadata after {timeout}s: {last}")


def topic_partition_count(bootstrap: str, name: str) -> int:
    md = admin(bootstrap).list_topics(topic=name, timeout=10)
    t = md.topics[name]
    assert t.error is None, f"metadata for {name}: {t.error}"
    return len(t.partitions)


# --------------------------------------------------------------------------------------------
# Produce.
@dataclass
class Delivery:
    index: int
    error: Optional[KafkaError]
    partition: int
    offset: int


def producer(bootstrap: str, **conf) -> Producer:
    base = {"bootstrap.servers": bootstrap, "linger.ms": 5, "logger": RDKAFKA_LOGGER}
    base.update({k.replace("_", "."): v for k, v in conf.items()})
    return Producer(base)


def produce_all(p: Producer, topic: str, messages: Sequence[Dict],
                timeout: float = 30.0) -> List[Delivery]:
    """Produces each message (a dict of produce() keyword arguments) and waits for every
    delivery report. Returns the reports in message order."""
    reports: List[Optional[Delivery]] = [None] * len(messages)

    def cb_for(i):
        def cb(err, msg):
            reports[i] = Delivery(i, err, msg.partition(), msg.offset())
        return cb

    deadline = time.monotonic() + timeout
    for i, m in enumerate(messages):
        while True:
            try:
                p.produce(topic, on_delivery=cb_for(i), **m)
                break
            except BufferError:
                assert time.monotonic() < deadline, "producer queue stayed full"
                p.poll(0.1)
        p.poll(0)
    left = p.flush(max(deadline - time.monotonic(), 0.1))
    assert left == 0, f"{left} messages still undelivered after {timeout}s"
    assert all(r is not None for r in reports), "a delivery report is missing"
    return reports  # type: ignore[return-value]


def produce_ok(bootstrap: str, topic: str, messages: Sequence[Dict], timeout: float = 30.0,
               **conf) -> List[Delivery]:
    p = producer(bootstrap, **conf)
    reports = produce_all(p, topic, messages, timeout)
    errors = [r for r in reports if r.error is not None]
    assert not errors, f"{len(errors)} of {len(reports)} deliveries failed, first: " \
                       f"{errors[0].error}"
    return reports


def values(n: int, prefix: str = "m", partition: Optional[int] = None) -> List[Dict]:
    out = []
    for i in range(n):
        m = {"value": f"{prefix}-{i}".encode()}
        if partition is not None:
            m["partition"] = partition
        out.append(m)
    return out


# --------------------------------------------------------------------------------------------
# Consume.
@dataclass
class Got:
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: Optional[List[Tuple[str, Optional[bytes]]]]
    timestamp: Tuple[int, int]


def consumer(bootstrap: str, **conf) -> Consumer:
    base = {
        "bootstrap.servers": bootstrap,
        # confluent-kafka 1.7 insists on a group id; assign() never joins the group and
        # auto commit is off, so no group coordination is needed.
        "group.id": f"it-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "check.crcs": True,
        "logger": RDKAFKA_LOGGER,
    }
    base.update({k.replace("_", "."): v for k, v in conf.items()})
    return Consumer(base)


def _got(m) -> Got:
    return Got(m.partition(), m.offset(), m.key(), m.value(), m.headers(), m.timestamp())


def consume_n(c: Consumer, n: int, timeout: float = 20.0) -> List[Got]:
    """Consumes exactly n messages from whatever `c` is assigned, failing on a consumer error
    or if fewer arrive within `timeout`."""
    out: List[Got] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"got {len(out)} of {n} messages within {timeout}s"
        for m in c.consume(num_messages=min(n - len(out), 10000), timeout=min(left, 1.0)):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {m.error()}")
            out.append(_got(m))
    return out


def consume_none(c: Consumer, wait: float = 1.5) -> List[Got]:
    """Consumes for `wait` seconds and returns whatever arrives (expected: nothing)."""
    out: List[Got] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for m in c.consume(num_messages=100, timeout=0.2):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {m.error()}")
            out.append(_got(m))
    return out


def read_from(bootstrap: str, topic: str, partition: int, offset: int, n: int,
              timeout: float = 20.0, **conf) -> List[Got]:
    c = consumer(bootstrap, **conf)
    try:
        c.assign([TopicPartition(topic, partition, offset)])
        return consume_n(c, n, timeout)
    finally:
        c.close()


def watermarks(bootstrap: str, topic: str, partition: int = 0) -> Tuple[int, int]:
    c = consumer(bootstrap)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        c.close()


def read_all(bootstrap: str, topic: str, partition: int, timeout: float = 30.0) -> List[Got]:
    """Everything between the low and high watermark."""
    low, high = watermarks(bootstrap, topic, partition)
    if high <= low:
        return []
    return read_from(bootstrap, topic, partition, low, high - low, timeout)


# --------------------------------------------------------------------------------------------
# On disk.
def partition_dirs(data_dir: str, topic: str, partition: int) -> List[str]:
    """Directories that hold one partition's segments. The layout (one directory per partition,
    segments named by 20-digit base offset) is from shared/DESIGN.md; the directory is found by
    name ("<topic>-<p>" as in Kafka, or "<topic>/<p>") so the test does not depend on depth."""
    out = []
    for root, dirs, _files in os.walk(data_dir):
        for d in dirs:
            if d == f"{topic}-{partition}" or \
                    (d == str(partition) and os.path.basename(root) == topic):
                out.append(os.path.join(root, d))
    return out


def segment_files(data_dir: str, topic: str, partition: int) -> List[str]:
    """The .log segment files of one partition, sorted by name (= base offset)."""
    files = []
    for d in partition_dirs(data_dir, topic, partition):
        files += [f for f in glob.glob(os.path.join(d, "*.log")) if os.path.isfile(f)]
    return sorted(files, key=os.path.basename)


def find_bytes_on_disk(data_dir: str, needle: bytes) -> List[str]:
    """Every file under data_dir whose contents include `needle`."""
    hits = []
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    if needle in fh.read():
                        hits.append(path)
            except OSError:
                pass
    return hits


def wait_until(pred, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


class BrokerKiller:
    """Kills `broker` with SIGKILL and restarts it, in a background thread, each time the
    acknowledged count (`acked()`) passes one of `fractions` of `total`. `kills` collects
    (acked count at the kill, seconds the broker was down); `errors` whatever the thread
    raised, for the test to surface. Gives up `margin_s` before `deadline`. `down_s`, if given,
    says how long the broker stays down after each kill (seconds; None: a random 0.05-0.5 s,
    the default for every kill)."""

    def __init__(self, broker, acked, total: int, fractions: Sequence[float], deadline: float,
                 seed: int, margin_s: float = 60,
                 down_s: Optional[Sequence[Optional[float]]] = None):
        self.kills: List[Tuple[int, float]] = []
        self.errors: List[BaseException] = []
        self._stop = threading.Event()
        self._down_s = list(down_s) if down_s is not None else None
        self._args = (broker, acked, total, fractions, deadline, seed, margin_s)
        self._thread = threading.Thread(target=self._run, name="killer", daemon=True)

    def start(self) -> "BrokerKiller":
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        broker, acked, total, fractions, deadline, seed, margin_s = self._args
        rng = random.Random(seed)
        try:
            for frac in fractions:
                while acked() < frac * total:
                    if self._stop.wait(0.01) or time.monotonic() > deadline - margin_s:
                        return
                time.sleep(rng.uniform(0, 0.2))
                at = acked()
                if at >= total:
                    return
                broker.kill()
                down = time.monotonic()
                pause = rng.uniform(0.05, 0.5)
                i = len(self.kills)
                if self._down_s is not None and i < len(self._down_s) and \
                        self._down_s[i] is not None:
                    pause = self._down_s[i]
                time.sleep(pause)
                broker.start()
                self.kills.append((at, time.monotonic() - down))
        except BaseException as e:  # noqa: BLE001 - surfaced in the main thread
            self.errors.append(e)


# --------------------------------------------------------------------------------------------
# AMQP 0-9-1 (python3-pika). A broker gets an AMQP listener on a free port by adding
# amqp_listen_args() to its flags (broker_factory's extra_args, or a module's BROKER_ARGS for
# shared_broker); the flag stays in its command line, so restarts (clean or after SIGKILL)
# reuse the same port and data directory.
try:
    import pika  # noqa: E402
except ImportError:  # pragma: no cover - only the AMQP tests need it
    pika = None

AMQP_FLAG = "--amqp-listen"


def amqp_listen_args(port: Optional[int] = None) -> List[str]:
    """`--amqp-listen 127.0.0.1:<free port>` (or the given port)."""
    return [AMQP_FLAG, f"127.0.0.1:{port if port is not None else free_port()}"]


def amqp_port_of(broker) -> int:
    """The AMQP port in the broker's command line (see amqp_listen_args)."""
    args = broker.command()
    for i, a in enumerate(args):
        if a == AMQP_FLAG and i + 1 < len(args):
            return int(args[i + 1].rsplit(":", 1)[1])
        if a.startswith(AMQP_FLAG + "="):
            return int(a.rsplit(":", 1)[1])
    raise AssertionError(f"broker has no {AMQP_FLAG} flag: {args}")


def wait_amqp_serving(broker, timeout: float = 20.0) -> None:
    """Waits until the broker accepts connections on its AMQP port (fails if it exits)."""
    port = amqp_port_of(broker)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not broker.running():
            raise AssertionError(f"broker exited before listening for AMQP on {port}\n"
                                 f"{broker.log_tail()}")
        if port_accepts(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"no AMQP listener on 127.0.0.1:{port} within {timeout}s\n"
                         f"{broker.log_tail()}")


def start_amqp_broker(broker_factory, extra_args: Sequence[str] = (),
                      env: Optional[Dict] = None):
    """A broker (from the broker_factory fixture) with an AMQP listener on a free port."""
    b = broker_factory(extra_args=[*amqp_listen_args(), *extra_args], env=env)
    wait_amqp_serving(b)
    return b


def restart_broker(broker, kill: bool = False, down_s: float = 0.0) -> None:
    """Stops the broker (SIGTERM, exit 0 asserted; or SIGKILL with kill=True), waits down_s,
    and starts it again on the same ports and data directory."""
    if kill:
        broker.kill()
    elif broker.running():
        broker.stop()
    if down_s:
        time.sleep(down_s)
    broker.start()
    if any(a == AMQP_FLAG or a.startswith(AMQP_FLAG + "=") for a in broker.command()):
        wait_amqp_serving(broker)


def amqp_params(broker, user: str = "guest", password: str = "guest", vhost: str = "/",
                **kw) -> "pika.ConnectionParameters":
    kw.setdefault("socket_timeout", 10)
    kw.setdefault("blocked_connection_timeout", 30)
    kw.setdefault("connection_attempts", 1)
    return pika.ConnectionParameters(host="127.0.0.1", port=amqp_port_of(broker),
                                     virtual_host=vhost,
                                     credentials=pika.PlainCredentials(user, password), **kw)


def amqp_connect(broker, **kw) -> "pika.BlockingConnection":
    return pika.BlockingConnection(amqp_params(broker, **kw))


def amqp_get_all(ch, queue: str, n: int, timeout: float = 15.0, auto_ack: bool = True):
    """basic.get until `n` messages arrived; returns [(method, properties, body)]. Fails if
    fewer arrive within `timeout`."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        m, p, body = ch.basic_get(queue, auto_ack=auto_ack)
        if m is None:
            assert time.monotonic() < deadline, \
                f"got {len(out)} of {n} messages from {queue} within {timeout}s"
            time.sleep(0.02)
            continue
        out.append((m, p, body))
    return out


def amqp_get_none(ch, queue: str, wait: float = 0.5) -> None:
    """Asserts that `queue` has nothing to get now and after `wait` seconds."""
    m, _p, body = ch.basic_get(queue, auto_ack=True)
    assert m is None, f"unexpected message in {queue}: {body!r}"
    time.sleep(wait)
    m, _p, body = ch.basic_get(queue, auto_ack=True)
    assert m is None, f"unexpected message in {queue}: {body!r}"


def amqp_consume_n(conn, ch, queue: str, n: int, timeout: float = 15.0,
                   auto_ack: bool = True):
    """basic.consume and collect exactly n deliveries [(method, properties, body)]; cancels
    the consumer before returning. Fails if fewer arrive within `timeout`."""
    out = []
    deadline = time.monotonic() + timeout
    for m, p, body in ch.consume(queue, auto_ack=auto_ack, inactivity_timeout=0.2):
        if m is not None:
            out.append((m, p, body))
        if len(out) >= n:
            break
        assert time.monotonic() < deadline, \
            f"consumed {len(out)} of {n} messages from {queue} within {timeout}s"
    ch.cancel()
    return out


def amqp_message_count(ch, queue: str) -> int:
    """Ready messages in `queue` (passive queue.declare)."""
    return ch.queue_declare(queue, passive=True).method.message_count


def amqp_wait_count(ch, queue: str, n: int, timeout: float = 10.0) -> int:
    return wait_until(lambda: amqp_message_count(ch, queue) == n or None, timeout,
                      interval=0.05, what=f"{queue} holding {n} messages") and n


# --------------------------------------------------------------------------------------------
# HTTP admin API. A broker gets it on a free port by adding http_listen_args() to its flags
# (like amqp_listen_args); the flag stays in its command line, so restarts keep the port.
HTTP_FLAG = "--http-listen"


def http_listen_args(port: Optional[int] = None) -> List[str]:
    """`--http-listen 127.0.0.1:<free port>` (or the given port)."""
    return [HTTP_FLAG, f"127.0.0.1:{port if port is not None else free_port()}"]


def http_port_of(broker) -> int:
    """The HTTP admin port in the broker's command line (see http_listen_args)."""
    args = broker.command()
    for i, a in enumerate(args):
        if a == HTTP_FLAG and i + 1 < len(args):
            return int(args[i + 1].rsplit(":", 1)[1])
        if a.startswith(HTTP_FLAG + "="):
            return int(a.rsplit(":", 1)[1])
    raise AssertionError(f"broker has no {HTTP_FLAG} flag: {args}")


def http_address_of(broker) -> str:
    return f"127.0.0.1:{http_port_of(broker)}"


def wait_http_serving(broker, timeout: float = 20.0) -> None:
    """Waits until the broker accepts connections on its HTTP port (fails if it exits)."""
    port = http_port_of(broker)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not broker.running():
            raise AssertionError(f"broker exited before listening for HTTP on {port}\n"
                                 f"{broker.log_tail()}")
        if port_accepts(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"no HTTP listener on 127.0.0.1:{port} within {timeout}s\n"
                         f"{broker.log_tail()}")


def http_call(broker, method: str, path: str, body: Optional[bytes] = None,
              timeout: float = OP_TIMEOUT_S):
    """One request to the admin API: (status, parsed JSON body or None)."""
    import http.client
    import json as _json
    c = http.client.HTTPConnection("127.0.0.1", http_port_of(broker), timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        return r.status, (_json.loads(data) if data else None)
    finally:
        c.close()
