"""A small fault-injecting TCP proxy that understands Kafka framing, for the idempotence tests.

    proxy = ChaosProxy(listen=("127.0.0.2", port), target=("127.0.0.1", port), seed=7,
                       swallow_probability=0.1, max_swallows=40,
                       drop_probability=0.05, max_drops=25)
    proxy.start()
    ...                      # clients connect to 127.0.0.2:port
    proxy.stop()             # closes the listener and every connection, joins the threads
    proxy.swallowed, proxy.drops

Each accepted client connection gets its own upstream connection and two threads, one per
direction, that relay whole Kafka frames (int32 size + payload). The client->broker thread
notes each request's API key by correlation id. Faults, decided by one seeded RNG and bounded
in number, apply only to the APIs in `fault_apis` (Produce by default), so metadata, ApiVersions
and InitProducerId always get through and the client keeps making progress:

  * swallow (the important one): the request was forwarded and the broker's whole response
    has arrived at the proxy -- so the broker has processed (appended) it -- but instead of
    relaying the response the proxy closes both connections. The client sees a dropped
    connection and must retry a batch the broker already has.
  * drop: only the first part of a request frame is forwarded, then both connections are
    closed, so the broker sees a truncated request and appends nothing of it.

Counters (`swallowed`, `drops`, `connections`, `requests`, `responses`) are read after stop().
Produce requests (v3-v8) are also parsed far enough to name their batches (topic, partition,
producer id, epoch, base sequence, record count): `batches_forwarded` counts how often each
reached the broker whole, `swallowed_batches` holds those whose response was swallowed, so a
test can show that the broker really received retries of batches it had already appended.
Every wait is bounded: sockets have timeouts and stop() joins threads with a deadline.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from typing import Dict, List, Optional, Set, Tuple

API_PRODUCE = 0


class ChaosProxy:
    def __init__(self, listen: Tuple[str, int], target: Tuple[str, int], seed: int = 0,
                 swallow_probability: float = 0.0, max_swallows: int = 0,
                 drop_probability: float = 0.0, max_drops: int = 0,
                 fault_apis: Set[int] = frozenset({API_PRODUCE}),
                 socket_timeout: float = 300.0):
        self.listen_addr = listen
        self.target = target
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.swallow_probability = swallow_probability
        self.max_swallows = max_swallows
        self.drop_probability = drop_probability
        self.max_drops = max_drops
        self.fault_apis = set(fault_apis)
        self.socket_timeout = socket_timeout
        self.enabled = True          # faults on/off; relaying continues either way
        self.swallowed = 0
        self.drops = 0
        self.connections = 0
        self.requests = 0
        self.responses = 0
        # Produce batches forwarded whole to the broker: (topic, partition, producer id,
        # epoch, base sequence, record count) -> times. A count above 1 is a client retry
        # that reached the broker.
        self.batches_forwarded: Dict[tuple, int] = {}
        # Batches whose Produce response was swallowed (the broker had answered them).
        self.swallowed_batches: Set[tuple] = set()
        self.unparsed_produce = 0
        self.errors: List[str] = []  # unexpected exceptions in proxy threads
        self._stopping = threading.Event()
        self._listener: Optional[socket.socket] = None
        self._threads: List[threading.Thread] = []
        self._socks: Set[socket.socket] = set()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> "ChaosProxy":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(self.listen_addr)
        s.listen(64)
        s.settimeout(0.2)
        self._listener = s
        self._spawn(self._accept_loop, "proxy-accept")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        # The accept thread first (it polls the flag every 0.2 s), so no connection is
        # registered after the sweep below; then the listener is closed, by its only user.
        accept = self._threads[0] if self._threads else None
        if accept is not None:
            accept.join(timeout)
        if self._listener is not None and not (accept and accept.is_alive()):
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
            threads = list(self._threads)
        for s in socks:
            _shutdown(s)  # wakes the threads; each connection's last thread closes its sockets
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0.1))
        alive = [t.name for t in threads if t.is_alive()]
        assert not alive, f"proxy threads still running after stop(): {alive}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- internals -------------------------------------------------------------------------
    def _spawn(self, fn, name, *args) -> None:
        t = threading.Thread(target=fn, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()  # broker down: the client sees a refused-like close
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(self.socket_timeout)
            if self._stopping.is_set():
                _shut(client)
                _shut(upstream)
                return
            with self._lock:
                self.connections += 1
                n = self.connections
                self._socks.update((client, upstream))
            conn = _Conn(client, upstream)
            self._spawn(self._client_to_broker, f"proxy-c2b-{n}", conn)
            self._spawn(self._broker_to_client, f"proxy-b2c-{n}", conn)

    def _decide(self, kind: str, api_key: Optional[int]) -> bool:
        """True if this frame gets the fault `kind` (one RNG draw per eligible frame)."""
        if not self.enabled or api_key not in self.fault_apis or self._stopping.is_set():
            return False
        with self._lock:
            if kind == "swallow":
                if self.swallowed >= self.max_swallows:
                    return False
                if self._rng.random() < self.swallow_probability:
                    self.swallowed += 1
                    return True
            else:
                if self.drops >= self.max_drops:
                    return False
                if self._rng.random() < self.drop_probability:
                    self.drops += 1
                    return True
        return False

    def _close(self, conn: "_Conn") -> None:
        """A relay thread is done: shut both sockets down (which wakes the other thread of the
        connection) and, from the second thread, close them. Only shutdown() is used while the
        other thread may still be in recv()/send(): closing there would free the descriptor,
        which a new connection could reuse under the blocked call."""
        _shutdown(conn.client)
        _shutdown(conn.upstream)
        with conn.lock:
            conn.finished += 1
            last = conn.finished == 2
        if last:
            with self._lock:
                self._socks.discard(conn.client)
                self._socks.discard(conn.upstream)
            _shut(conn.client)
            _shut(conn.upstream)

    def _client_to_broker(self, conn: "_Conn") -> None:
        try:
            while True:
                hdr = _recv_exact(conn.client, 4)
                if hdr is None:
                    return
                size = struct.unpack(">i", hdr)[0]
                payload = _recv_exact(conn.client, size) if size > 0 else b""
                if payload is None:
                    return
                api_key = corr = None
                batches = ()
                if len(payload) >= 8:
                    api_key, ver, corr = struct.unpack_from(">hhi", payload, 0)
                    if api_key == API_PRODUCE:
                        batches = self._produce_batches(payload, ver)
                    with conn.lock:
                        conn.api_by_corr[corr] = api_key
                        conn.batches_by_corr[corr] = batches
                with self._lock:
                    self.requests += 1
                frame = hdr + payload
                if self._decide("drop", api_key):
                    cut = self._cut_point(len(frame))
                    conn.upstream.sendall(frame[:cut])
                    return
                conn.upstream.sendall(frame)
                if batches:
                    with self._lock:
                        for k in batches:
                            self.batches_forwarded[k] = self.batches_forwarded.get(k, 0) + 1
        except OSError:
            return
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(f"c2b: {e!r}")
        finally:
            self._close(conn)

    def _produce_batches(self, payload: bytes, version: int) -> tuple:
        """The batch keys of a non-flexible (v3-v8) Produce request; () if it cannot be
        parsed (counted in unparsed_produce, never fatal: the frame is relayed as it is)."""
        if not 3 <= version <= 8:
            with self._lock:
                self.unparsed_produce += 1
            return ()
        try:
            pos = 8
            (n,) = struct.unpack_from(">h", payload, pos)          # client id
            pos += 2 + max(n, 0)
            (n,) = struct.unpack_from(">h", payload, pos)          # transactional id
            pos += 2 + max(n, 0) + 2 + 4                           # acks, timeout
            keys = []
            (topics,) = struct.unpack_from(">i", payload, pos)
            pos += 4
            for _ in range(topics):
                (n,) = struct.unpack_from(">h", payload, pos)
                topic = payload[pos + 2:pos + 2 + n].decode()
                pos += 2 + n
                (parts,) = struct.unpack_from(">i", payload, pos)
                pos += 4
                for _ in range(parts):
                    part, size = struct.unpack_from(">ii", payload, pos)
                    pos += 8
                    end = pos + max(size, 0)
                    while pos + 61 <= end:
                        (length,) = struct.unpack_from(">i", payload, pos + 8)
                        pid, epoch, seq, count = struct.unpack_from(">qhii", payload, pos + 43)
                        keys.append((topic, part, pid, epoch, seq, count))
                        pos += 12 + length
                    pos = end
            return tuple(keys)
        except (struct.error, UnicodeDecodeError):
            with self._lock:
                self.unparsed_produce += 1
            return ()

    def _cut_point(self, n: int) -> int:
        with self._lock:
            return self._rng.randint(1, max(1, n - 1))

    def _broker_to_client(self, conn: "_Conn") -> None:
        try:
            while True:
                hdr = _recv_exact(conn.upstream, 4)
                if hdr is None:
                    return
                size = struct.unpack(">i", hdr)[0]
                payload = _recv_exact(conn.upstream, size) if size > 0 else b""
                if payload is None:
                    return
                api_key = None
                batches = ()
                if len(payload) >= 4:
                    corr = struct.unpack_from(">i", payload, 0)[0]
                    with conn.lock:
                        api_key = conn.api_by_corr.pop(corr, None)
                        batches = conn.batches_by_corr.pop(corr, ())
                with self._lock:
                    self.responses += 1
                if self._decide("swallow", api_key):
                    with self._lock:
                        self.swallowed_batches.update(batches)
                    return  # the broker has answered; the client never hears it
                conn.client.sendall(hdr + payload)
        except OSError:
            return
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"b2c: {e!r}")
        finally:
            self._close(conn)


class _Conn:
    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client = client
        self.upstream = upstream
        self.lock = threading.Lock()
        self.api_by_corr: Dict[int, int] = {}
        self.batches_by_corr: Dict[int, tuple] = {}
        self.finished = 0  # relay threads done (2: both; the second closes the sockets)


def _recv_exact(s: socket.socket, n: int) -> Optional[bytes]:
    """n bytes, or None at EOF/reset (also part-way through)."""
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = s.recv(min(n - len(buf), 1 << 20))
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _shutdown(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _shut(s: socket.socket) -> None:
    _shutdown(s)
    try:
        s.close()
    except OSError:
        pass
