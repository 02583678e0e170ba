"""A small, dependency-free AMQP 0-9-1 wire helper for tests that need raw bytes.

pika and amqp-tools never send malformed frames, cannot log in with AMQPLAIN, and publish with
confirms one message at a time; the tests that need any of that use this module: frames,
field tables, the handful of methods the tests send or read (connection, channel, queue.declare,
basic.publish / ack / nack, confirm.select) and a `Wire` connection with a bounded read.

Layouts follow the AMQP 0-9-1 specification (amqp0-9-1.xml) and its errata as RabbitMQ applies
them (field-table type tags). Only what the tests need is implemented.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE

# (class, method) ids.
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
BASIC_PUBLISH = (60, 40)
BASIC_ACK = (60, 80)
BASIC_NACK = (60, 120)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)

# Reply codes.
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
FRAME_ERROR = 501
CHANNEL_ERROR = 504
NOT_ALLOWED = 530
NOT_IMPLEMENTED = 540


# --------------------------------------------------------------------------------------------
# Encoding.
def shortstr(s) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    assert len(b) < 256
    return struct.pack(">B", len(b)) + b


def longstr(s) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def field_value(v) -> bytes:
    if isinstance(v, bool):
        return b"t" + struct.pack(">B", 1 if v else 0)
    if isinstance(v, int):
        return b"l" + struct.pack(">q", v)
    if isinstance(v, (str, bytes)):
        return b"S" + longstr(v)
    if isinstance(v, dict):
        return b"F" + table(v)
    raise TypeError(f"no field type for {v!r}")


def table_body(fields: Dict) -> bytes:
    return b"".join(shortstr(k) + field_value(v) for k, v in fields.items())


def table(fields: Dict) -> bytes:
    body = table_body(fields)
    return struct.pack(">I", len(body)) + body


def frame(ftype: int, channel: int, payload: bytes, end: int = FRAME_END) -> bytes:
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + bytes([end])


def method_frame(channel: int, ids: Tuple[int, int], args: bytes = b"") -> bytes:
    return frame(FRAME_METHOD, channel, struct.pack(">HH", *ids) + args)


def start_ok_args(mechanism: str, response: bytes, properties: Optional[Dict] = None) -> bytes:
    props = {"product": "tern-it", "capabilities": {"consumer_cancel_notify": True,
                                                   "basic.nack": True,
                                                   "publisher_confirms": True}}
    props.update(properties or {})
    return table(props) + shortstr(mechanism) + longstr(response) + shortstr("en_US")


def plain_response(user: str, password: str) -> bytes:
    return b"\x00" + user.encode() + b"\x00" + password.encode()


def amqplain_response(user: str, password: str) -> bytes:
    # A field table without its length prefix (RabbitMQ's AMQPLAIN).
    return table_body({"LOGIN": user, "PASSWORD": password})


def publish_frames(channel: int, exchange: str, routing_key: str, body: bytes,
                   persistent: bool = True, frame_max: int = 131072,
                   mandatory: bool = False) -> bytes:
    out = method_frame(channel, BASIC_PUBLISH,
                       struct.pack(">H", 0) + shortstr(exchange) + shortstr(routing_key) +
                       struct.pack(">B", 1 if mandatory else 0))
    # Content header: class 60, weight 0, body size, flags (bit 12 = delivery-mode).
    if persistent:
        props = struct.pack(">HB", 0x1000, 2)
    else:
        props = struct.pack(">H", 0)
    out += frame(FRAME_HEADER, channel, struct.pack(">HHQ", 60, 0, len(body)) + props)
    chunk = frame_max - 8
    for i in range(0, len(body), chunk):
        out += frame(FRAME_BODY, channel, body[i:i + chunk])
    return out


# --------------------------------------------------------------------------------------------
# Decoding.
@dataclass
class Frame:
    type: int
    channel: int
    payload: bytes

    @property
    def ids(self) -> Optional[Tuple[int, int]]:
        if self.type != FRAME_METHOD or len(self.payload) < 4:
            return None
        return struct.unpack(">HH", self.payload[:4])

    def close_reason(self) -> Tuple[int, str]:
        """(reply code, reply text) of a connection.close or channel.close."""
        p = self.payload[4:]
        code = struct.unpack(">H", p[:2])[0]
        n = p[2]
        return code, p[3:3 + n].decode(errors="replace")

    def ack_args(self) -> Tuple[int, bool]:
        """(delivery tag, multiple) of a basic.ack or basic.nack."""
        tag, bits = struct.unpack(">QB", self.payload[4:13])
        return tag, bool(bits & 1)

    def tune_args(self) -> Tuple[int, int, int]:
        return struct.unpack(">HIH", self.payload[4:12])


class WireClosed(Exception):
    """The peer closed the socket."""


class Wire:
    """One raw AMQP connection. Every read has a deadline."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout
        self.frame_max = 131072

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete frame before the deadline")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout as e:
            raise TimeoutError("no complete frame before the deadline") from e
        except ConnectionResetError as e:
            raise WireClosed("connection reset") from e
        if not chunk:
            raise WireClosed("peer closed the connection")
        self.buf += chunk

    def read_exact(self, n: int, timeout: Optional[float] = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_all_until_closed(self, timeout: Optional[float] = None) -> bytes:
        """Everything the peer sends until it closes (raises TimeoutError if it does not)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                self._fill(deadline)
            except WireClosed:
                out, self.buf = self.buf, b""
                return out

    def read_frame(self, timeout: Optional[float] = None, skip_heartbeats: bool = True) -> Frame:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            while len(self.buf) < 7:
                self._fill(deadline)
            ftype, ch, size = struct.unpack(">BHI", self.buf[:7])
            while len(self.buf) < 7 + size + 1:
                self._fill(deadline)
            payload = self.buf[7:7 + size]
            end = self.buf[7 + size]
            self.buf = self.buf[8 + size:]
            assert end == FRAME_END, f"bad frame-end {end:#x} from the server"
            if ftype == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            return Frame(ftype, ch, payload)

    def expect(self, ids: Tuple[int, int], timeout: Optional[float] = None) -> Frame:
        f = self.read_frame(timeout)
        if f.ids != ids:
            extra = ""
            if f.ids in (CONNECTION_CLOSE, CHANNEL_CLOSE):
                extra = f" {f.close_reason()}"
            raise AssertionError(f"expected method {ids}, got frame type {f.type} "
                                 f"method {f.ids}{extra}")
        return f

    def handshake(self, user: str = "guest", password: str = "guest", vhost: str = "/",
                  mechanism: str = "PLAIN", heartbeat: int = 0,
                  frame_max: int = 131072) -> Optional[Frame]:
        """Runs the handshake up to connection.open-ok. Returns None on success, or the
        connection.close frame the server answered with instead."""
        self.send(PROTOCOL_HEADER)
        self.expect(CONNECTION_START)
        response = (amqplain_response(user, password) if mechanism == "AMQPLAIN"
                    else plain_response(user, password))
        self.send(method_frame(0, CONNECTION_START_OK, start_ok_args(mechanism, response)))
        f = self.read_frame()
        if f.ids == CONNECTION_CLOSE:
            return f
        assert f.ids == CONNECTION_TUNE, f"expected connection.tune, got {f.ids}"
        channel_max, server_frame_max, _hb = f.tune_args()
        self.frame_max = min(frame_max, server_frame_max) if server_frame_max else frame_max
        self.send(method_frame(0, CONNECTION_TUNE_OK,
                               struct.pack(">HIH", channel_max, self.frame_max, heartbeat)))
        self.send(method_frame(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + b"\x00"))
        f = self.read_frame()
        if f.ids == CONNECTION_CLOSE:
            return f
        assert f.ids == CONNECTION_OPEN_OK, f"expected connection.open-ok, got {f.ids}"
        return None

    def open_channel(self, channel: int = 1) -> None:
        self.send(method_frame(channel, CHANNEL_OPEN, shortstr("")))
        self.expect(CHANNEL_OPEN_OK)

    def declare_queue(self, channel: int, name: str, durable: bool = True) -> Tuple[int, int]:
        """queue.declare; returns (message count, consumer count)."""
        bits = 0x02 if durable else 0
        self.send(method_frame(channel, QUEUE_DECLARE, struct.pack(">H", 0) + shortstr(name) +
                               struct.pack(">B", bits) + table({})))
        f = self.expect(QUEUE_DECLARE_OK)
        p = f.payload[4:]
        n = p[0]
        return struct.unpack(">II", p[1 + n:9 + n])

    def confirm_select(self, channel: int) -> None:
        self.send(method_frame(channel, CONFIRM_SELECT, b"\x00"))
        self.expect(CONFIRM_SELECT_OK)

    def expect_connection_close(self, timeout: Optional[float] = None) -> Tuple[int, str]:
        """Reads until connection.close (skipping other frames), answers close-ok, returns
        (code, text)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            f = self.read_frame(max(deadline - time.monotonic(), 0.01))
            if f.ids == CONNECTION_CLOSE:
                try:
                    self.send(method_frame(0, CONNECTION_CLOSE_OK))
                except OSError:
                    pass
                return f.close_reason()


def read_frames_from(data: bytes) -> List[Frame]:
    """Splits raw bytes into frames (for what read_all_until_closed returned)."""
    out = []
    while len(data) >= 8:
        ftype, ch, size = struct.unpack(">BHI", data[:7])
        if len(data) < 8 + size:
            break
        out.append(Frame(ftype, ch, data[7:7 + size]))
        data = data[8 + size:]
    return out
