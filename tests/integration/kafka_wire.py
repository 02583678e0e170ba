"""A small, dependency-free Kafka wire-protocol helper for tests that need raw bytes.

Real clients (librdkafka, kafka-python) never send malformed requests, so the bad-input tests
build requests by hand here: the request header (v1), ApiVersions, Produce v3 carrying a
RecordBatch v2 built in Python (with CRC-32C computed in pure Python), Fetch v4, ListOffsets v1
and DeleteRecords v0, plus just enough response parsing to check error codes.

Only what the tests need is implemented; every field layout follows the Kafka protocol guide.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

# --------------------------------------------------------------------------------------------
# Error codes and API keys used by the tests.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42
INVALID_RECORD = 87

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_API_VERSIONS = 18
API_DELETE_RECORDS = 21

COMPRESSION_NONE = 0
COMPRESSION_GZIP = 1


# --------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, as used by RecordBatch v2.
def _make_crc32c_table() -> List[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of `data`; `crc` continues a previous value. crc32c(b"123456789") == 0xE3069283."""
    table = _CRC32C_TABLE
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "crc32c self-check failed"


# --------------------------------------------------------------------------------------------
# Primitive encoders.
def i8(v: int) -> bytes:
    return struct.pack(">b", v)


def i16(v: int) -> bytes:
    return struct.pack(">h", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def i64(v: int) -> bytes:
    return struct.pack(">q", v)


def string(s: Optional[str]) -> bytes:
    """STRING / NULLABLE_STRING: int16 length (-1 for null) then UTF-8 bytes."""
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def kbytes(b: Optional[bytes]) -> bytes:
    """BYTES / NULLABLE_BYTES: int32 length (-1 for null) then the bytes."""
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items: Sequence[bytes]) -> bytes:
    return i32(len(items)) + b"".join(items)


def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(v: int) -> bytes:
    """Zig-zag signed varint (varint and varlong share the encoding)."""
    return uvarint((v << 1) ^ (v >> 63))


# --------------------------------------------------------------------------------------------
# Primitive decoder.
class Truncated(Exception):
    pass


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data = data
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Truncated(f"need {n} bytes at {self.pos}, have {self.remaining()}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self) -> int:
        return struct.unpack(">b", self._take(1))[0]

    def i16(self) -> int:
        return struct.unpack(">h", self._take(2))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self._take(4))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self._take(4))[0]

    def i64(self) -> int:
        return struct.unpack(">q", self._take(8))[0]

    def string(self) -> Optional[str]:
        n = self.i16()
        return None if n < 0 else self._take(n).decode()

    def bytes_(self) -> Optional[bytes]:
        n = self.i32()
        return None if n < 0 else self._take(n)

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def array(self, item):
        n = self.i32()
        if n < 0:
            return None
        if n > self.remaining():
            raise Truncated(f"array count {n} exceeds remaining bytes")
        return [item(self) for _ in range(n)]

    def uvarint(self) -> int:
        shift = 0
        v = 0
        while True:
            b = self._take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self) -> int:
        v = self.uvarint()
        return (v >> 1) ^ -(v & 1)


# --------------------------------------------------------------------------------------------
# Request framing.
def request_header_v1(api_key: int, api_version: int, correlation_id: int,
                      client_id: Optional[str] = "tern-it") -> bytes:
    return i16(api_key) + i16(api_version) + i32(correlation_id) + string(client_id)


def frame(payload: bytes) -> bytes:
    """Prefixes the int32 size."""
    return i32(len(payload)) + payload


def encode_request(api_key: int, api_version: int, correlation_id: int, body: bytes,
                   client_id: Optional[str] = "tern-it") -> bytes:
    return frame(request_header_v1(api_key, api_version, correlation_id, client_id) + body)


class ConnectionClosed(Exception):
    pass


class KafkaConn:
    """One blocking TCP connection speaking raw Kafka frames."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self._corr = 0

    @classmethod
    def to(cls, bootstrap: str, timeout: float = 10.0) -> "KafkaConn":
        host, port = bootstrap.rsplit(":", 1)
        return cls(host, int(port), timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_request(self, api_key: int, api_version: int, body: bytes,
                     client_id: Optional[str] = "tern-it") -> int:
        self._corr += 1
        self.send_raw(encode_request(api_key, api_version, self._corr, body, client_id))
        return self._corr

    def recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionClosed(f"peer closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_frame(self) -> bytes:
        size = struct.unpack(">i", self.recv_exact(4))[0]
        if size < 4 or size > 256 << 20:
            raise ValueError(f"bad response size {size}")
        return self.recv_exact(size)

    def recv_response(self, expected_corr: Optional[int] = None) -> Reader:
        """Reads one response frame; returns a Reader positioned after the correlation id.

        Response header v0 (correlation id only) is assumed: every request here is non-flexible.
        """
        r = Reader(self.recv_frame())
        corr = r.i32()
        if expected_corr is not None and corr != expected_corr:
            raise AssertionError(f"correlation id {corr}, expected {expected_corr}")
        return r

    def request(self, api_key: int, api_version: int, body: bytes) -> Reader:
        corr = self.send_request(api_key, api_version, body)
        return self.recv_response(corr)

    def closed_by_peer(self, timeout: float) -> bool:
        """True if the peer closes (EOF or reset) within `timeout` seconds without sending data.

        Raises AssertionError if the peer sends bytes instead."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
            raise AssertionError(f"expected the connection to be closed, got {len(data)} bytes")


# --------------------------------------------------------------------------------------------
# ApiVersions (key 18).
@dataclass
class ApiVersionsResponse:
    error_code: int
    apis: dict  # api_key -> (min, max)
    throttle_time_ms: Optional[int] = None


def parse_api_versions_v0(r: Reader) -> ApiVersionsResponse:
    err = r.i16()
    apis = {}
    for k, lo, hi in r.array(lambda rr: (rr.i16(), rr.i16(), rr.i16())):
        apis[k] = (lo, hi)
    return ApiVersionsResponse(err, apis)


def parse_api_versions_v1(r: Reader) -> ApiVersionsResponse:
    resp = parse_api_versions_v0(r)
    resp.throttle_time_ms = r.i32()
    return resp


def api_versions(conn: KafkaConn, version: int = 0) -> ApiVersionsResponse:
    r = conn.request(API_API_VERSIONS, version, b"")
    return parse_api_versions_v1(r) if version in (1, 2) else parse_api_versions_v0(r)


def compact_string(s: Optional[str]) -> bytes:
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def api_versions_v3(conn: KafkaConn, software: str = "tern-it",
                    software_version: str = "1.0") -> ApiVersionsResponse:
    """ApiVersions v3: request header v2 (with tagged fields), flexible body; the response
    header stays v0 (ApiVersions responses never carry header tagged fields)."""
    conn._corr += 1
    header = (i16(API_API_VERSIONS) + i16(3) + i32(conn._corr) + string("tern-it") +
              uvarint(0))
    body = compact_string(software) + compact_string(software_version) + uvarint(0)
    conn.send_raw(frame(header + body))
    r = conn.recv_response(conn._corr)
    err = r.i16()
    n = r.uvarint() - 1
    apis = {}
    for _ in range(max(n, 0)):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        _skip_tagged_fields(r)
        apis[k] = (lo, hi)
    throttle = r.i32()
    _skip_tagged_fields(r)
    assert r.remaining() == 0, f"{r.remaining()} unparsed bytes at the end of ApiVersions v3"
    return ApiVersionsResponse(err, apis, throttle)


def _skip_tagged_fields(r: Reader) -> None:
    for _ in range(r.uvarint()):
        r.uvarint()          # tag
        r.raw(r.uvarint())   # size, data


def response_or_close(conn: KafkaConn, timeout: float = 10.0):
    """After a request the broker may reject: returns ("closed", None) if the connection is
    closed, ("response", payload-after-correlation-id as bytes, correlation id) otherwise.
    Raises AssertionError if neither happens within `timeout` seconds."""
    conn.sock.settimeout(timeout)
    try:
        payload = conn.recv_frame()
    except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
        return ("closed", None, None)
    except socket.timeout:
        raise AssertionError(f"no response and no close within {timeout}s")
    r = Reader(payload)
    corr = r.i32()
    return ("response", payload[4:], corr)


# --------------------------------------------------------------------------------------------
# RecordBatch v2.
@dataclass
class Record:
    value: Optional[bytes]
    key: Optional[bytes] = None
    headers: List[Tuple[str, Optional[bytes]]] = field(default_factory=list)
    timestamp_delta: int = 0


def encode_record(rec: Record, offset_delta: int) -> bytes:
    body = bytearray()
    body += i8(0)  # attributes (unused)
    body += varint(rec.timestamp_delta)
    body += varint(offset_delta)
    if rec.key is None:
        body += varint(-1)
    else:
        body += varint(len(rec.key)) + rec.key
    if rec.value is None:
        body += varint(-1)
    else:
        body += varint(len(rec.value)) + rec.value
    body += varint(len(rec.headers))
    for hk, hv in rec.headers:
        kb = hk.encode()
        body += varint(len(kb)) + kb
        if hv is None:
            body += varint(-1)
        else:
            body += varint(len(hv)) + hv
    return varint(len(body)) + bytes(body)


def build_record_batch(records: Sequence[Record], *, base_offset: int = 0,
                       base_timestamp: Optional[int] = None, compression: int = COMPRESSION_NONE,
                       producer_id: int = -1, producer_epoch: int = -1,
                       base_sequence: int = -1, partition_leader_epoch: int = -1,
                       record_count: Optional[int] = None,
                       records_payload: Optional[bytes] = None,
                       corrupt_crc: bool = False) -> bytes:
    """Encodes one RecordBatch v2.

    record_count overrides the count field (to make it disagree with the records);
    records_payload replaces the encoded (and possibly compressed) records section entirely;
    corrupt_crc flips the stored CRC so it no longer matches.
    """
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    if records_payload is None:
        raw = b"".join(encode_record(r, i) for i, r in enumerate(records))
        if compression == COMPRESSION_GZIP:
            raw = gzip.compress(raw)
        elif compression != COMPRESSION_NONE:
            raise ValueError("only none and gzip are implemented here")
        records_payload = raw
    count = len(records) if record_count is None else record_count
    last_offset_delta = max(len(records) - 1, 0) if record_count is None else max(count - 1, 0)
    max_ts = base_timestamp + max([r.timestamp_delta for r in records] or [0])
    # Everything the CRC covers: attributes .. end of records.
    after_crc = (i16(compression & 0x7) + i32(last_offset_delta) + i64(base_timestamp) +
                 i64(max_ts) + i64(producer_id) + i16(producer_epoch) + i32(base_sequence) +
                 i32(count) + records_payload)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    # batchLength counts the bytes after the batchLength field itself.
    after_length = i32(partition_leader_epoch) + i8(2) + u32(crc) + after_crc
    return i64(base_offset) + i32(len(after_length)) + after_length


@dataclass
class Batch:
    base_offset: int
    last_offset_delta: int
    magic: int
    crc: int
    crc_ok: bool
    attributes: int
    record_count: int
    base_timestamp: int
    length: int


def parse_batches(data: bytes) -> List[Batch]:
    """Splits a records blob (as fetched) into batches, checking each CRC. A partial batch at
    the end (allowed in fetch responses) is ignored."""
    out = []
    pos = 0
    while len(data) - pos >= 12:
        base_offset, length = struct.unpack_from(">qi", data, pos)
        if length < 49 or pos + 12 + length > len(data):
            break
        body = data[pos + 12:pos + 12 + length]
        magic = body[4]
        crc = struct.unpack_from(">I", body, 5)[0]
        covered = body[9:]
        attributes, last_delta, base_ts = struct.unpack_from(">hiq", covered, 0)
        count = struct.unpack_from(">i", covered, 2 + 4 + 8 + 8 + 8 + 2 + 4)[0]
        out.append(Batch(base_offset, last_delta, magic, crc, crc32c(covered) == crc,
                         attributes, count, base_ts, length))
        pos += 12 + length
    return out


# --------------------------------------------------------------------------------------------
# Produce (key 0), v3.
@dataclass
class ProducePartitionResult:
    partition: int
    error_code: int
    base_offset: int
    log_append_time: int


def encode_produce_v3(topic: str, partition: int, records: bytes, acks: int = -1,
                      timeout_ms: int = 10000, transactional_id: Optional[str] = None) -> bytes:
    part = i32(partition) + kbytes(records)
    return (string(transactional_id) + i16(acks) + i32(timeout_ms) +
            array([string(topic) + array([part])]))


def parse_produce_v3(r: Reader) -> List[Tuple[str, ProducePartitionResult]]:
    out = []
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            out.append((name, ProducePartitionResult(r.i32(), r.i16(), r.i64(), r.i64())))
    r.i32()  # throttle_time_ms
    return out


def produce_v3(conn: KafkaConn, topic: str, partition: int, batch: bytes,
               acks: int = -1, timeout_ms: int = 10000) -> ProducePartitionResult:
    r = conn.request(API_PRODUCE, 3, encode_produce_v3(topic, partition, batch, acks, timeout_ms))
    results = parse_produce_v3(r)
    assert len(results) == 1, f"expected one partition result, got {results}"
    name, res = results[0]
    assert name == topic and res.partition == partition, f"result for wrong partition: {results}"
    return res


# --------------------------------------------------------------------------------------------
# Fetch (key 1), v4.
@dataclass
class FetchPartitionResult:
    partition: int
    error_code: int
    high_watermark: int
    last_stable_offset: int
    records: Optional[bytes]  # None if the broker sent a null records field


def encode_fetch_v4(topic: str, partition: int, offset: int, max_bytes: int = 8 << 20,
                    max_wait_ms: int = 100, min_bytes: int = 1) -> bytes:
    part = i32(partition) + i64(offset) + i32(max_bytes)
    return (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(0) +
            array([string(topic) + array([part])]))


def fetch_v4(conn: KafkaConn, topic: str, partition: int, offset: int,
             max_bytes: int = 8 << 20, max_wait_ms: int = 100) -> FetchPartitionResult:
    r = conn.request(API_FETCH, 4, encode_fetch_v4(topic, partition, offset, max_bytes,
                                                   max_wait_ms))
    r.i32()  # throttle
    results = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p, err, hw, lso = r.i32(), r.i16(), r.i64(), r.i64()
            r.array(lambda rr: (rr.i64(), rr.i64()))  # aborted transactions
            results.append(FetchPartitionResult(p, err, hw, lso, r.bytes_()))
    assert len(results) == 1, f"expected one partition in fetch response, got {len(results)}"
    return results[0]


# --------------------------------------------------------------------------------------------
# ListOffsets (key 2), v1.
EARLIEST = -2
LATEST = -1


def list_offset_v1(conn: KafkaConn, topic: str, partition: int, timestamp: int) -> Tuple[int, int]:
    """Returns (error_code, offset)."""
    body = i32(-1) + array([string(topic) + array([i32(partition) + i64(timestamp)])])
    r = conn.request(API_LIST_OFFSETS, 1, body)
    out = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            _p, err, _ts, off = r.i32(), r.i16(), r.i64(), r.i64()
            out.append((err, off))
    assert len(out) == 1, out
    return out[0]


# --------------------------------------------------------------------------------------------
# DeleteRecords (key 21), v0.
def delete_records_v0(conn: KafkaConn, topic: str, partition: int, offset: int,
                      timeout_ms: int = 10000) -> Tuple[int, int]:
    """Deletes records before `offset` (-1 = high watermark). Returns (error_code, low_watermark)."""
    body = array([string(topic) + array([i32(partition) + i64(offset)])]) + i32(timeout_ms)
    r = conn.request(API_DELETE_RECORDS, 0, body)
    r.i32()  # throttle
    out = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            _p, low, err = r.i32(), r.i64(), r.i16()
            out.append((err, low))
    assert len(out) == 1, out
    return out[0]


# --------------------------------------------------------------------------------------------
# Higher-level helpers.
def read_partition(bootstrap: str, topic: str, partition: int, start: int = 0,
                   timeout: float = 20.0) -> Tuple[List[Batch], int]:
    """Fetches every batch of a partition from `start` to the high watermark, checking that each
    batch's CRC is valid and that offsets are contiguous. Returns (batches, high_watermark)."""
    deadline = time.monotonic() + timeout
    batches: List[Batch] = []
    offset = start
    with KafkaConn.to(bootstrap) as conn:
        while True:
            assert time.monotonic() < deadline, f"reading {topic}/{partition} took > {timeout}s"
            res = fetch_v4(conn, topic, partition, offset)
            assert res.error_code == NONE, f"fetch {topic}/{partition}@{offset}: error {res.error_code}"
            if offset >= res.high_watermark:
                return batches, res.high_watermark
            got = parse_batches(res.records or b"")
            assert got, f"fetch {topic}/{partition}@{offset} returned no whole batch " \
                        f"(hw={res.high_watermark}, {len(res.records or b'')} bytes)"
            for b in got:
                assert b.magic == 2, f"batch at {b.base_offset}: magic {b.magic}"
                assert b.crc_ok, f"batch at {b.base_offset}: CRC mismatch (damaged log)"
                last = b.base_offset + b.last_offset_delta
                if last < offset:
                    continue  # a batch that starts before the requested offset
                if batches:
                    prev = batches[-1]
                    assert b.base_offset == prev.base_offset + prev.last_offset_delta + 1, \
                        f"{topic}/{partition}: gap or overlap between batch at " \
                        f"{prev.base_offset} and batch at {b.base_offset}"
                batches.append(b)
                offset = last + 1


# --------------------------------------------------------------------------------------------
# Idempotent producer: InitProducerId (key 22) v0-v4, batches with producer fields, and the
# records of fetched batches decoded (for tests that check every message exactly once).
API_INIT_PRODUCER_ID = 22

COORDINATOR_NOT_AVAILABLE = 15
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
DUPLICATE_SEQUENCE_NUMBER = 46
INVALID_PRODUCER_EPOCH = 47
UNKNOWN_PRODUCER_ID = 59


@dataclass
class InitProducerIdResponse:
    throttle_time_ms: int
    error_code: int
    producer_id: int
    producer_epoch: int


def init_producer_id(conn: KafkaConn, version: int = 0, transactional_id: Optional[str] = None,
                     transaction_timeout_ms: int = 60000, producer_id: int = -1,
                     producer_epoch: int = -1) -> InitProducerIdResponse:
    """InitProducerId v0-v4. v0/v1: request header v1, response header v0. v2+ (flexible):
    request header v2 and compact body with tagged fields, response header v1 (tagged fields
    after the correlation id). producer_id/producer_epoch are sent from v3 on."""
    if version < 2:
        body = string(transactional_id) + i32(transaction_timeout_ms)
        r = conn.request(API_INIT_PRODUCER_ID, version, body)
    else:
        conn._corr += 1
        header = (i16(API_INIT_PRODUCER_ID) + i16(version) + i32(conn._corr) +
                  string("tern-it") + uvarint(0))
        body = compact_string(transactional_id) + i32(transaction_timeout_ms)
        if version >= 3:
            body += i64(producer_id) + i16(producer_epoch)
        body += uvarint(0)
        conn.send_raw(frame(header + body))
        r = conn.recv_response(conn._corr)
        _skip_tagged_fields(r)  # response header v1
    resp = InitProducerIdResponse(r.i32(), r.i16(), r.i64(), r.i16())
    if version >= 2:
        _skip_tagged_fields(r)
    assert r.remaining() == 0, f"{r.remaining()} unparsed bytes after InitProducerId v{version}"
    return resp


def idempotent_batch(producer_id: int, producer_epoch: int, base_sequence: int,
                     values: Sequence[bytes], keys: Optional[Sequence[Optional[bytes]]] = None,
                     **kw) -> bytes:
    """A RecordBatch v2 of len(values) records carrying the producer fields; the bytes are
    fixed once built, so sending them again is an exact retry."""
    keys = keys if keys is not None else [None] * len(values)
    return build_record_batch([Record(v, k) for k, v in zip(keys, values)],
                              producer_id=producer_id, producer_epoch=producer_epoch,
                              base_sequence=base_sequence, **kw)


@dataclass
class FetchedRecord:
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    producer_id: int
    producer_epoch: int
    sequence: int  # base sequence + offset delta, -1 when the batch has none


def decode_batch_records(data: bytes) -> List[FetchedRecord]:
    """Every record of the whole batches in a fetched records blob (compression none or
    gzip), with its absolute offset. CRCs are checked; a partial batch at the end is ignored."""
    out: List[FetchedRecord] = []
    pos = 0
    while len(data) - pos >= 12:
        base_offset, length = struct.unpack_from(">qi", data, pos)
        if length < 49 or pos + 12 + length > len(data):
            break
        body = data[pos + 12:pos + 12 + length]
        pos += 12 + length
        assert body[4] == 2, f"batch at {base_offset}: magic {body[4]}"
        crc = struct.unpack_from(">I", body, 5)[0]
        covered = body[9:]
        assert crc32c(covered) == crc, f"batch at {base_offset}: CRC mismatch"
        r = Reader(covered)
        attributes = r.i16()
        r.i32()  # last offset delta
        r.i64()  # base timestamp
        r.i64()  # max timestamp
        pid, epoch, base_seq, count = r.i64(), r.i16(), r.i32(), r.i32()
        payload = covered[r.pos:]
        codec = attributes & 0x7
        if codec == COMPRESSION_GZIP:
            payload = gzip.decompress(payload)
        elif codec != COMPRESSION_NONE:
            raise ValueError(f"batch at {base_offset}: compression {codec} not implemented")
        if attributes & 0x20:  # control batch: no user records
            continue
        rr = Reader(payload)
        for _ in range(count):
            size = rr.varint()
            end = rr.pos + size
            rr.i8()        # attributes
            rr.varint()    # timestamp delta
            delta = rr.varint()
            klen = rr.varint()
            key = None if klen < 0 else rr.raw(klen)
            vlen = rr.varint()
            value = None if vlen < 0 else rr.raw(vlen)
            rr.pos = end   # headers are not needed
            out.append(FetchedRecord(base_offset + delta, key, value, pid, epoch,
                                     base_seq + delta if base_seq >= 0 else -1))
    return out


def read_partition_records(bootstrap: str, topic: str, partition: int, start: int = 0,
                           timeout: float = 60.0) -> Tuple[List[FetchedRecord], int]:
    """Every record of a partition from `start` to the high watermark, straight from the broker
    at `bootstrap` (raw Fetch v4, no metadata lookup). Returns (records, high_watermark)."""
    deadline = time.monotonic() + timeout
    out: List[FetchedRecord] = []
    offset = start
    with KafkaConn.to(bootstrap) as conn:
        while True:
            assert time.monotonic() < deadline, f"reading {topic}/{partition} took > {timeout}s"
            res = fetch_v4(conn, topic, partition, offset)
            assert res.error_code == NONE, \
                f"fetch {topic}/{partition}@{offset}: error {res.error_code}"
            if offset >= res.high_watermark:
                return out, res.high_watermark
            got = [rec for rec in decode_batch_records(res.records or b"")
                   if rec.offset >= offset]
            assert got, f"fetch {topic}/{partition}@{offset} returned no whole batch " \
                        f"(hw={res.high_watermark})"
            out.extend(got)
            offset = got[-1].offset + 1


def log_end(conn: KafkaConn, topic: str, partition: int) -> int:
    err, off = list_offset_v1(conn, topic, partition, LATEST)
    assert err == NONE, f"ListOffsets {topic}/{partition} latest: error {err}"
    return off


# --------------------------------------------------------------------------------------------
# Back pressure: responses with their throttle_time_ms, for pipelined requests.
def parse_produce_v3_response(r: Reader) -> Tuple[List[Tuple[str, ProducePartitionResult]], int]:
    """A Produce v3 response body: (per-partition results, throttle_time_ms)."""
    out = []
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            out.append((name, ProducePartitionResult(r.i32(), r.i16(), r.i64(), r.i64())))
    return out, r.i32()


def parse_fetch_v4_response(r: Reader) -> Tuple[int, List[FetchPartitionResult]]:
    """A Fetch v4 response body: (throttle_time_ms, per-partition results)."""
    throttle = r.i32()
    results = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p, err, hw, lso = r.i32(), r.i16(), r.i64(), r.i64()
            r.array(lambda rr: (rr.i64(), rr.i64()))  # aborted transactions
            results.append(FetchPartitionResult(p, err, hw, lso, r.bytes_()))
    return throttle, results


def has_pending_bytes(conn: KafkaConn, timeout: float = 0.0) -> bool:
    """True if the peer has sent bytes (or closed) that are not read yet, within `timeout`."""
    import select
    readable, _, _ = select.select([conn.sock], [], [], timeout)
    return bool(readable)
