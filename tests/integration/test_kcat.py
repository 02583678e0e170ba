"""kcat (librdkafka 2.0.2) against a real broker: metadata, produce/consume with keys and
headers, and every compression codec."""

import json
import subprocess

import pytest

from tern_helpers import create_topic, find_bytes_on_disk, unique_topic

KCAT_TIMEOUT_S = 15


def kcat(bootstrap, *args, stdin=None, check=True):
    cmd = ["kcat", "-b", bootstrap, "-X", "socket.timeout.ms=10000", *args]
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=KCAT_TIMEOUT_S)
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}\n" \
                                  f"stdout: {p.stdout.decode(errors='replace')[-2000:]}\n" \
                                  f"stderr: {p.stderr.decode(errors='replace')[-2000:]}"
    return p


def kcat_consume_json(bootstrap, topic, *extra):
    """Consumes a topic from the beginning to its end (-e), one JSON object per message."""
    p = kcat(bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q", *extra)
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def header_pairs(h):
    """kcat -J prints headers as a flat list [k1, v1, k2, v2, ...]."""
    if h is None:
        return []
    if isinstance(h, list) and all(isinstance(x, (str, type(None))) for x in h):
        return list(zip(h[0::2], h[1::2]))
    if isinstance(h, dict):
        return list(h.items())
    return [tuple(x) for x in h]


def test_kcat_metadata_lists_the_broker_and_created_topics(shared_broker):
    topic = unique_topic("kcat-meta")
    create_topic(shared_broker.bootstrap, topic, partitions=3)
    md = json.loads(kcat(shared_broker.bootstrap, "-L", "-J").stdout)
    brokers = md["brokers"]
    assert len(brokers) == 1, brokers
    assert brokers[0]["name"] == shared_broker.bootstrap, \
        f"broker advertised as {brokers[0]['name']}, expected {shared_broker.bootstrap}"
    topics = {t["topic"]: t for t in md["topics"]}
    assert topic in topics, f"{topic} missing from {sorted(topics)}"
    parts = sorted(p["partition"] for p in topics[topic]["partitions"])
    assert parts == [0, 1, 2]
    for p in topics[topic]["partitions"]:
        assert p["leader"] == brokers[0]["id"], p


def test_kcat_metadata_text_output_names_broker(shared_broker):
    out = kcat(shared_broker.bootstrap, "-L").stdout.decode()
    assert "1 brokers:" in out, out
    assert f"at {shared_broker.bootstrap}" in out, out


def test_kcat_produce_then_consume_round_trips_keys_values_and_headers(shared_broker):
    topic = unique_topic("kcat-rt")
    create_topic(shared_broker.bootstrap, topic, partitions=1)
    lines = [f"key-{i}:value-{i}" for i in range(50)]
    kcat(shared_broker.bootstrap, "-P", "-t", topic, "-p", "0", "-K", ":",
         "-H", "source=kcat", "-H", "n=1", stdin=("\n".join(lines) + "\n").encode())
    got = kcat_consume_json(shared_broker.bootstrap, topic)
    assert [(m["key"], m["payload"]) for m in got] == \
        [(f"key-{i}", f"value-{i}") for i in range(50)]
    assert [m["offset"] for m in got] == list(range(50))
    for m in got:
        assert header_pairs(m.get("headers")) == [("source", "kcat"), ("n", "1")], m


def test_kcat_consume_with_offset_and_count(shared_broker):
    topic = unique_topic("kcat-off")
    create_topic(shared_broker.bootstrap, topic, partitions=1)
    kcat(shared_broker.bootstrap, "-P", "-t", topic, "-p", "0",
         stdin=("\n".join(f"v{i}" for i in range(20)) + "\n").encode())
    p = kcat(shared_broker.bootstrap, "-C", "-t", topic, "-p", "0", "-o", "15", "-e", "-J", "-q")
    got = [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]
    assert [(m["offset"], m["payload"]) for m in got] == [(i, f"v{i}") for i in range(15, 20)]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_kcat_compressed_produce_round_trips_and_is_stored_compressed(shared_broker, codec):
    topic = unique_topic(f"kcat-{codec}")
    create_topic(shared_broker.bootstrap, topic, partitions=1)
    # A long, repetitive value: any codec shrinks it, so the full value cannot appear verbatim
    # on disk if the batch was really stored compressed.
    unit = f"tern-{codec}-{topic}|"
    payloads = [unit * 40 + f"#{i}" for i in range(30)]
    kcat(shared_broker.bootstrap, "-P", "-t", topic, "-p", "0", "-z", codec,
         stdin=("\n".join(payloads) + "\n").encode())
    got = kcat_consume_json(shared_broker.bootstrap, topic)
    assert [m["payload"] for m in got] == payloads
    hits = find_bytes_on_disk(shared_broker.data_dir, (unit * 40).encode())
    assert not hits, f"{codec}: uncompressed payload found on disk in {hits}; librdkafka sent " \
                     f"an uncompressed batch (is Produce v0 still advertised?) or the broker " \
                     f"recompressed it"


def test_kcat_uncompressed_payload_is_visible_on_disk(shared_broker):
    """Control for the compression test: the same check finds an uncompressed payload."""
    topic = unique_topic("kcat-none")
    create_topic(shared_broker.bootstrap, topic, partitions=1)
    unit = f"tern-none-{topic}|"
    kcat(shared_broker.bootstrap, "-P", "-t", topic, "-p", "0", "-z", "none",
         stdin=(unit * 40 + "\n").encode())
    assert [m["payload"] for m in kcat_consume_json(shared_broker.bootstrap, topic)] == \
        [unit * 40]
    assert find_bytes_on_disk(shared_broker.data_dir, (unit * 40).encode()), \
        "uncompressed payload not found anywhere under the data directory"
