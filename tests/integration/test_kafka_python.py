"""python3-kafka (kafka-python 2.0.2) against a real broker.

kafka-python does not negotiate per API: it sends ApiVersions v0, infers a Kafka release from
the advertised ranges and picks fixed request versions from that guess. Nothing here pins
api_version, so every test also checks that the advertised ranges look like one coherent
release."""

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.client_async import KafkaClient
from kafka import codec as kcodec
from kafka.errors import TopicAlreadyExistsError

from tern_helpers import unique_topic

TIMEOUT_MS = 15000


def kp_admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS,
                            client_id="tern-it-admin")


def kp_consumer(bootstrap, **kw):
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         consumer_timeout_ms=2000, request_timeout_ms=TIMEOUT_MS + 5000,
                         **kw)


def poll_n(consumer, n, timeout=20.0):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"got {len(out)} of {n} records within {timeout}s"
        for recs in consumer.poll(timeout_ms=min(int(left * 1000), 1000),
                                  max_records=n - len(out)).values():
            out.extend(recs)
    return out


def create(admin, name, partitions=1, configs=None):
    resp = admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})],
                               timeout_ms=TIMEOUT_MS)
    errors = [(t[0], t[1]) for t in resp.topic_errors]
    assert errors == [(name, 0)], f"create_topics({name}): {resp}"


def produce(bootstrap, topic, values, partition=0, **kw):
    p = KafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS, **kw)
    try:
        futures = [p.send(topic, value=v, key=f"k{i}".encode(), partition=partition,
                          headers=[("i", str(i).encode())]) for i, v in enumerate(values)]
        p.flush(timeout=20)
        return [f.get(timeout=20) for f in futures]
    finally:
        p.close(timeout=10)


@pytest.fixture(scope="module")
def admin_client(shared_broker):
    a = kp_admin(shared_broker.bootstrap)
    yield a
    a.close()


def test_kafka_python_infers_a_broker_version_with_record_batch_v2(shared_broker):
    c = KafkaClient(bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=TIMEOUT_MS)
    try:
        version = c.check_version(timeout=10)
    finally:
        c.close()
    # Headers and RecordBatch v2 need >= 0.11; zstd needs >= 2.1 (Fetch v10 advertised).
    assert version >= (0, 11), f"kafka-python infers Kafka {version} from the advertised ranges"


def test_admin_create_list_describe_delete_topics(shared_broker, admin_client):
    t = unique_topic("kp-admin")
    create(admin_client, t, partitions=3, configs={"retention.ms": "3600000"})
    assert t in admin_client.list_topics()
    (desc,) = admin_client.describe_topics([t])
    assert desc["topic"] == t and desc["error_code"] == 0
    assert sorted(p["partition"] for p in desc["partitions"]) == [0, 1, 2]
    (cfg,) = admin_client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)])
    (res,) = cfg.resources
    assert res[0] == 0, f"describe_configs error {res}"
    entries = {e[0]: e[1] for e in res[4]}
    assert entries.get("retention.ms") == "3600000", entries
    resp = admin_client.delete_topics([t], timeout_ms=TIMEOUT_MS)
    assert [(e[0], e[1]) for e in resp.topic_error_codes] == [(t, 0)]
    assert t not in admin_client.list_topics()


def test_admin_create_existing_topic_reports_topic_already_exists(shared_broker, admin_client):
    t = unique_topic("kp-dup")
    create(admin_client, t)
    # KafkaAdminClient raises the error it finds in the response.
    with pytest.raises(TopicAlreadyExistsError):
        admin_client.create_topics([NewTopic(t, 1, 1)], timeout_ms=TIMEOUT_MS)


def test_admin_alter_configs_and_create_partitions(shared_broker, admin_client):
    t = unique_topic("kp-alter")
    create(admin_client, t)
    resp = admin_client.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t,
                                                      configs={"retention.ms": "7200000"})])
    assert resp.resources[0][0] == 0, resp
    (cfg,) = admin_client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)])
    entries = {e[0]: e[1] for e in cfg.resources[0][4]}
    assert entries["retention.ms"] == "7200000"
    resp = admin_client.create_partitions({t: NewPartitions(4)}, timeout_ms=TIMEOUT_MS)
    assert resp.topic_errors[0][1] == 0, resp
    (desc,) = admin_client.describe_topics([t])
    assert len(desc["partitions"]) == 4


ACKS = [0, 1, "all"]
CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def _codec_available(codec):
    return {None: True, "gzip": kcodec.has_gzip(), "snappy": kcodec.has_snappy(),
            "lz4": kcodec.has_lz4(), "zstd": kcodec.has_zstd()}[codec]


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c or "none")
@pytest.mark.parametrize("acks", ACKS, ids=lambda a: f"acks{a}")
def test_producer_with_acks_and_codec_round_trips(shared_broker, admin_client, acks, codec):
    if not _codec_available(codec):
        pkg = {"snappy": "python3-snappy", "lz4": "python3-lz4",
               "zstd": "python3-zstandard"}[codec]
        pytest.skip(f"kafka-python has no {codec} codec here: Debian package {pkg} is not "
                    f"installed (scripts/install-deps.sh should add it)")
    t = unique_topic(f"kp-{acks}-{codec}")
    create(admin_client, t)
    values = [(f"kp|{codec}|{i:05d}|" * 6).encode() for i in range(200)]
    metas = produce(shared_broker.bootstrap, t, values, acks=acks, compression_type=codec,
                    linger_ms=10)
    if acks != 0:
        assert [m.offset for m in metas] == list(range(200))
    c = kp_consumer(shared_broker.bootstrap)
    try:
        tp = TopicPartition(t, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        got = poll_n(c, 200)
    finally:
        c.close()
    assert [r.offset for r in got] == list(range(200))
    assert [r.value for r in got] == values
    assert [r.key for r in got] == [f"k{i}".encode() for i in range(200)]
    assert [r.headers for r in got] == [[("i", str(i).encode())] for i in range(200)]


def test_consumer_seek_to_beginning_seek_and_seek_to_end(shared_broker, admin_client):
    t = unique_topic("kp-seek")
    create(admin_client, t)
    produce(shared_broker.bootstrap, t, [f"v{i}".encode() for i in range(30)], acks="all")
    tp = TopicPartition(t, 0)
    c = kp_consumer(shared_broker.bootstrap)
    try:
        c.assign([tp])
        c.seek_to_beginning(tp)
        assert [r.value for r in poll_n(c, 30)] == [f"v{i}".encode() for i in range(30)]
        c.seek(tp, 17)
        assert [r.offset for r in poll_n(c, 13)] == list(range(17, 30))
        c.seek_to_end(tp)
        assert c.position(tp) == 30
        assert c.poll(timeout_ms=800) == {}
        produce(shared_broker.bootstrap, t, [b"after-end-0", b"after-end-1"], acks="all")
        got = poll_n(c, 2)
        assert [(r.offset, r.value) for r in got] == [(30, b"after-end-0"), (31, b"after-end-1")]
    finally:
        c.close()


def test_consumer_offsets_for_times_beginning_and_end_offsets(shared_broker, admin_client):
    t = unique_topic("kp-times")
    create(admin_client, t, partitions=2)
    base = int(time.time() * 1000) - 600_000
    p = KafkaProducer(bootstrap_servers=shared_broker.bootstrap, acks="all",
                      request_timeout_ms=TIMEOUT_MS)
    try:
        for i in range(10):
            p.send(t, value=f"v{i}".encode(), partition=0, timestamp_ms=base + i * 1000)
            p.flush(timeout=20)  # one batch per record: several time-index entries
    finally:
        p.close(timeout=10)
    tp0, tp1 = TopicPartition(t, 0), TopicPartition(t, 1)
    c = kp_consumer(shared_broker.bootstrap)
    try:
        assert c.beginning_offsets([tp0, tp1]) == {tp0: 0, tp1: 0}
        assert c.end_offsets([tp0, tp1]) == {tp0: 10, tp1: 0}
        found = c.offsets_for_times({tp0: base + 3500, tp1: base})
        assert found[tp0] is not None and found[tp0].offset == 4, found
        assert found[tp0].timestamp == base + 4000
        assert found[tp1] is None, "an empty partition has no offset for any timestamp"
        assert c.offsets_for_times({tp0: base + 10_000_000})[tp0] is None
        c.assign([tp0])
        c.seek(tp0, found[tp0].offset)
        got = poll_n(c, 6)
        assert [r.value for r in got] == [f"v{i}".encode() for i in range(4, 10)]
        assert [r.timestamp for r in got] == [base + i * 1000 for i in range(4, 10)]
    finally:
        c.close()
