"""kafkajs 2.x (npm, pinned in js/package.json) against a real broker.

Each test runs small node scripts from tests/integration/js/ (common.js explains their JSON
argument and output) and checks what they report, plus what the broker stored (raw Fetch with
kafka_wire). Covered: the API versions kafkajs negotiates (every API it uses is advertised, and
the version it sends is inside the advertised range); the admin client (createTopics with
partitions and configs, listTopics, fetchTopicMetadata, describeConfigs, createPartitions,
deleteTopics, alterConfigs, describeCluster, fetchTopicOffsets, fetchTopicOffsetsByTimestamp,
deleteTopicRecords); the producer with acks -1 and 1, no compression and gzip (the only codec
kafkajs ships), in batches of numbered messages; group consumers (two members share a
4-partition topic and together see every message exactly once; commit, stop, restart resumes at
the committed offset); the group admin calls (describeGroups, listGroups, fetchOffsets,
resetOffsets, deleteGroups, with NON_EMPTY_GROUP and GROUP_ID_NOT_FOUND); the idempotent
producer; and a transactional producer, which Tern refuses (transactions are not implemented).
The broker must log no warning (malformed or unsupported request) during any of it.

node and kafkajs come from scripts/install-deps.sh (Debian's nodejs and npm, then
`npm ci --prefix tests/integration/js`). Every node process has a deadline and is killed by its
PID if it outlives it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from typing import Dict, List, Optional

import pytest

from kafka_wire import (COMPRESSION_GZIP, COORDINATOR_NOT_AVAILABLE, KafkaConn, init_producer_id,
                        read_partition, read_partition_records)
from tern_helpers import unique_topic, wait_until

BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "0",
               "--group-min-session-timeout-ms", "1000"]

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
NODE = shutil.which("node") or shutil.which("nodejs")
KAFKAJS_VERSION = "2.2.4"


@pytest.fixture(scope="module", autouse=True)
def _node_and_kafkajs():
    if NODE is None:
        pytest.fail("node is not installed: run scripts/install-deps.sh (Debian's nodejs, npm)",
                    pytrace=False)
    pkg = os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")
    if not os.path.isfile(pkg):
        pytest.fail(f"kafkajs is not installed in {JS_DIR}: run scripts/install-deps.sh (it runs "
                    f"`npm ci --prefix tests/integration/js`)", pytrace=False)
    with open(pkg) as f:
        version = json.load(f)["version"]
    assert version == KAFKAJS_VERSION, \
        f"node_modules has kafkajs {version}, package.json pins {KAFKAJS_VERSION}: run npm ci"


@pytest.fixture(autouse=True)
def _no_protocol_warnings(shared_broker):
    """kafkajs retries quietly after many failures (a closed connection, a retriable error), so
    a test could pass over a protocol problem. The broker logs every malformed or unsupported
    request as a warning: no test here may cause one."""
    start = len(shared_broker.log_text())
    yield
    new = shared_broker.log_text()[start:]
    bad = [line for line in new.splitlines() if re.match(r"^\S+ (warn|error|critical) ", line)]
    assert not bad, "the broker logged warnings while kafkajs ran:\n" + "\n".join(bad[:20])


# --------------------------------------------------------------------------------------------
# Running the scripts.
def run_js(script: str, timeout: float = 60.0, expect_ok: bool = True, **opts) -> Dict:
    """Runs js/<script> with opts as its JSON argument; returns its final result object."""
    opts.setdefault("maxRuntimeMs", int(timeout * 1000) - 2000)
    proc = subprocess.Popen([NODE, os.path.join(JS_DIR, script), json.dumps(opts)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, cwd=JS_DIR)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        raise AssertionError(f"node {script} ran over {timeout}s\nstdout:\n{out[-3000:]}\n"
                             f"stderr:\n{err[-3000:]}")
    results = [json.loads(line) for line in out.splitlines()
               if line.startswith("{") and '"ev":"result"' in line]
    assert results, f"node {script} exited {proc.returncode} without a result\nstdout:\n" \
                    f"{out[-3000:]}\nstderr:\n{err[-3000:]}"
    res = results[-1]
    if expect_ok:
        assert res["ok"] and proc.returncode == 0, \
            f"node {script} failed (exit {proc.returncode}): {json.dumps(res)[:3000]}\n" \
            f"stderr:\n{err[-3000:]}"
    res["_stderr"] = err
    return res


def admin_ops(bs: str, *ops, timeout: float = 60.0) -> List[Dict]:
    """Runs admin calls [(method, [args...]), ...] in one admin client; returns each result."""
    res = run_js("admin.js", timeout=timeout, broker=bs,
                 ops=[{"op": op, "args": list(args)} for op, args in ops])
    return res["results"]


def ok_value(r: Dict):
    assert r["ok"], f"admin.{r['op']} failed: {json.dumps(r['error'])}"
    return r["value"]


class JsConsumer:
    """consume.js as a background process; `events` collects its JSON lines."""

    def __init__(self, bs: str, topic: str, group: str, name: str, timeout: float = 90.0,
                 **opts):
        opts = {"broker": bs, "topic": topic, "groupId": group, "clientId": name,
                "maxRuntimeMs": int(timeout * 1000), **opts}
        self.name = name
        self.events: List[Dict] = []
        self.lock = threading.Lock()
        self.stderr: List[str] = []
        self.proc = subprocess.Popen([NODE, os.path.join(JS_DIR, "consume.js"), json.dumps(opts)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=JS_DIR)
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def evs(self, kind: str) -> List[Dict]:
        with self.lock:
            return [e for e in self.events if e["ev"] == kind]

    def recs(self) -> List[tuple]:
        return [tuple(r) for e in self.evs("msgs") for r in e["recs"]]

    def assignment(self, topic: str) -> Optional[List[int]]:
        joins = self.evs("join")
        return sorted(joins[-1]["assignment"].get(topic, [])) if joins else None

    def result(self, timeout: float = 30.0) -> Dict:
        self.proc.wait(timeout)
        for t in self._threads:
            t.join(5)
        res = self.evs("result")
        assert res, f"{self.name} ended (exit {self.proc.returncode}) without a result; " \
                    f"stderr: {''.join(self.stderr)[-3000:]}"
        assert res[-1]["ok"], f"{self.name} failed: {json.dumps(res[-1])[:3000]}; stderr: " \
                              f"{''.join(self.stderr)[-3000:]}"
        return res[-1]

    def stop(self, timeout: float = 30.0) -> Dict:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("stop\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        return self.result(timeout)

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def js_consumers():
    made: List[JsConsumer] = []

    def make(*a, **kw) -> JsConsumer:
        c = JsConsumer(*a, **kw)
        made.append(c)
        return c
    try:
        yield make
    finally:
        for c in made:
            c.cleanup()


def unique_group(hint: str) -> str:
    return f"kjs-{hint}-{uuid.uuid4().hex[:8]}"


def create(bs: str, topic: str, partitions: int = 1, configs: Optional[Dict] = None):
    r = admin_ops(bs, ("createTopics", [{"topics": [{
        "topic": topic, "numPartitions": partitions,
        "configEntries": [{"name": k, "value": v} for k, v in (configs or {}).items()]}]}]))
    assert ok_value(r[0]) is True, r


def produce(bs: str, topic: str, count: int, **opts) -> Dict:
    return run_js("produce.js", broker=bs, topic=topic, count=count, **opts)


# --------------------------------------------------------------------------------------------
# 1. API versions.
# Every API kafkajs uses outside transactions and ACLs. kafkajs sends min(its highest, the
# broker's highest) and fails with "server does not support API key" for a missing one.
KAFKAJS_NEEDS = ["Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch",
                 "GroupCoordinator", "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup",
                 "DescribeGroups", "ListGroups", "ApiVersions", "CreateTopics", "DeleteTopics",
                 "DeleteRecords", "InitProducerId", "DescribeConfigs", "AlterConfigs",
                 "CreatePartitions", "DeleteGroups"]
# Transactions are not implemented by Tern, so their APIs are not advertised (kafkajs's
# transactional producer fails before it would need them; see the last test).
TRANSACTION_APIS = ["AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit"]


def test_advertised_versions_cover_what_kafkajs_sends(shared_broker, capsys):
    apis = run_js("versions.js", broker=shared_broker.bootstrap)["apis"]
    by_name = {a["name"]: a for a in apis.values()}
    problems, table = [], []
    for name in KAFKAJS_NEEDS:
        a = by_name[name]
        adv = a["advertised"]
        if adv is None:
            problems.append(f"{name}: not advertised")
            continue
        sends = a["sends"]
        table.append(f"{name}=v{sends}")
        if sends not in a["implemented"] or not adv["minVersion"] <= sends <= adv["maxVersion"]:
            problems.append(f"{name}: kafkajs would send v{sends}, broker advertises "
                            f"{adv['minVersion']}-{adv['maxVersion']}, kafkajs implements "
                            f"{a['implemented']}")
    with capsys.disabled():
        print(f"\nkafkajs {KAFKAJS_VERSION} sends: {' '.join(table)}")
    assert not problems, problems
    assert all(by_name[n]["advertised"] is None for n in TRANSACTION_APIS), \
        {n: by_name[n]["advertised"] for n in TRANSACTION_APIS}


# --------------------------------------------------------------------------------------------
# 2. Admin: topics.
def test_admin_create_list_metadata_configs_partitions_delete(shared_broker):
    bs = shared_broker.bootstrap
    a, b = unique_topic("kjs-admin-a"), unique_topic("kjs-admin-b")
    configs = {"retention.ms": "3600000", "max.message.bytes": "200000",
               "cleanup.policy": "delete"}
    r = admin_ops(
        bs,
        ("createTopics", [{"topics": [
            {"topic": a, "numPartitions": 3,
             "configEntries": [{"name": k, "value": v} for k, v in configs.items()]},
            {"topic": b, "numPartitions": 1}]}]),
        ("createTopics", [{"topics": [{"topic": a, "numPartitions": 3}]}]),
        ("listTopics", []),
        ("fetchTopicMetadata", [{"topics": [a, b]}]),
        ("describeConfigs", [{"resources": [{"type": 2, "name": a,
                                             "configNames": sorted(configs) + ["segment.ms"]}],
                              "includeSynonyms": False}]),
        ("createPartitions", [{"topicPartitions": [{"topic": a, "count": 5}]}]),
        ("createPartitions", [{"topicPartitions": [{"topic": a, "count": 2}]}]),
        ("fetchTopicMetadata", [{"topics": [a]}]),
        ("deleteTopics", [{"topics": [b]}]),
        ("listTopics", []),
        ("alterConfigs", [{"validateOnly": False, "resources": [
            {"type": 2, "name": a, "configEntries": [{"name": "retention.ms",
                                                      "value": "7200000"}]}]}]),
        ("describeConfigs", [{"resources": [{"type": 2, "name": a,
                                             "configNames": ["retention.ms",
                                                             "max.message.bytes"]}],
                              "includeSynonyms": False}]),
        ("describeCluster", []),
    )
    assert ok_value(r[0]) is True
    assert ok_value(r[1]) is False, "createTopics of an existing topic should resolve false"
    assert {a, b} <= set(ok_value(r[2]))

    md = {t["name"]: t for t in ok_value(r[3])["topics"]}
    assert sorted(p["partitionId"] for p in md[a]["partitions"]) == [0, 1, 2]
    assert len(md[b]["partitions"]) == 1
    for p in md[a]["partitions"]:
        assert p["partitionErrorCode"] == 0 and p["leader"] >= 0 and p["replicas"] == [p["leader"]]

    res = ok_value(r[4])["resources"]
    assert len(res) == 1 and res[0]["errorCode"] == 0, res
    entries = {e["configName"]: e for e in res[0]["configEntries"]}
    for k, v in configs.items():
        assert entries[k]["configValue"] == v, entries[k]
        assert entries[k]["isDefault"] is False, entries[k]
    assert entries["segment.ms"]["isDefault"] is True, entries["segment.ms"]

    assert r[5]["ok"], r[5]  # createPartitions resolves to nothing
    assert not r[6]["ok"] and "INVALID_PARTITIONS" in r[6]["errorTypes"], r[6]
    assert sorted(p["partitionId"] for p in ok_value(r[7])["topics"][0]["partitions"]) == \
        [0, 1, 2, 3, 4]
    assert r[8]["ok"], r[8]
    topics = set(ok_value(r[9]))
    assert a in topics and b not in topics

    # AlterConfigs replaces the topic's overrides with the given set (Kafka's semantics).
    assert r[10]["ok"], r[10]
    entries = {e["configName"]: e for e in ok_value(r[11])["resources"][0]["configEntries"]}
    assert entries["retention.ms"]["configValue"] == "7200000", entries
    assert entries["max.message.bytes"]["isDefault"] is True, entries

    cluster = ok_value(r[12])
    host, port = bs.rsplit(":", 1)
    assert [(x["host"], x["port"]) for x in cluster["brokers"]] == [(host, int(port))], cluster
    assert cluster["controller"] == cluster["brokers"][0]["nodeId"], cluster


def test_admin_topic_offsets_by_timestamp_and_delete_records(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("kjs-offsets")
    create(bs, topic, partitions=2)
    for p in (0, 1):
        produce(bs, topic, 10, partition=p, batch=5)
    time.sleep(0.2)
    middle = int(time.time() * 1000)
    time.sleep(0.2)
    for p in (0, 1):
        produce(bs, topic, 4, start=10, partition=p, batch=4)
    r = admin_ops(bs, ("fetchTopicOffsets", [topic]),
                  ("fetchTopicOffsetsByTimestamp", [topic, middle]),
                  ("fetchTopicOffsetsByTimestamp", [topic, 0]),
                  ("fetchTopicOffsetsByTimestamp", [topic, middle + 3600_000]),
                  ("deleteTopicRecords", [{"topic": topic,
                                           "partitions": [{"partition": 1, "offset": "3"}]}]),
                  ("fetchTopicOffsets", [topic]))
    offs = {x["partition"]: x for x in ok_value(r[0])}
    assert {p: (x["low"], x["high"], x["offset"]) for p, x in offs.items()} == \
        {0: ("0", "14", "14"), 1: ("0", "14", "14")}, offs

    def by_ts(i):
        return {x["partition"]: x["offset"] for x in ok_value(r[i])}
    assert by_ts(1) == {0: "10", 1: "10"}
    assert by_ts(2) == {0: "0", 1: "0"}
    # No record at or after the timestamp: ListOffsets answers -1 and kafkajs substitutes the
    # high watermark.
    assert by_ts(3) == {0: "14", 1: "14"}
    # DeleteRecords moves partition 1's low watermark.
    assert r[4]["ok"], r[4]
    offs = {x["partition"]: (x["low"], x["high"]) for x in ok_value(r[5])}
    assert offs == {0: ("0", "14"), 1: ("3", "14")}, offs


# --------------------------------------------------------------------------------------------
# 3. Producer.
@pytest.mark.parametrize("compression", ["none", "gzip"])
@pytest.mark.parametrize("acks", [-1, 1])
def test_producer_acks_and_compression_round_trip(shared_broker, acks, compression):
    bs = shared_broker.bootstrap
    topic = unique_topic(f"kjs-produce-{acks}-{compression}")
    create(bs, topic, partitions=2)
    n, batch = 1000, 100
    sends = []
    for p in (0, 1):
        sends += produce(bs, topic, n, partition=p, batch=batch, acks=acks,
                         compression=compression, prefix=f"p{p}")["sends"]
    for s in sends:
        assert len(s["meta"]) == 1, s
        m = s["meta"][0]
        assert m["errorCode"] == 0 and m["topicName"] == topic, m
    for p in (0, 1):
        bases = [int(s["meta"][0]["baseOffset"]) for s in sends if s["meta"][0]["partition"] == p]
        assert bases == list(range(0, n, batch)), f"partition {p}: base offsets {bases}"
        records, hw = read_partition_records(bs, topic, p)
        assert hw == n
        assert [r.value for r in records] == [f"p{p}-{i}".encode() for i in range(n)]
        batches, _ = read_partition(bs, topic, p)
        assert len(batches) == n // batch, f"{len(batches)} batches stored"
        codecs = {bt.attributes & 0x7 for bt in batches}
        assert codecs == ({COMPRESSION_GZIP} if compression == "gzip" else {0}), codecs


def test_idempotent_producer(shared_broker):
    """idempotent: true (kafkajs requires maxInFlightRequests 1 and acks -1): the batches carry
    a producer id, epoch 0 and sequences that follow the offsets; a second producer gets
    another id."""
    bs = shared_broker.bootstrap
    topic = unique_topic("kjs-idempotent")
    create(bs, topic)
    for run in range(2):
        res = produce(bs, topic, 500, start=run * 500, batch=50, partition=0, acks=-1,
                      idempotent=True, maxInFlightRequests=1)
        assert all(s["meta"][0]["errorCode"] == 0 for s in res["sends"])
    records, hw = read_partition_records(bs, topic, 0)
    assert hw == 1000
    assert [r.value for r in records] == [f"m-{i}".encode() for i in range(1000)]
    first, second = records[:500], records[500:]
    pids = {r.producer_id for r in first}, {r.producer_id for r in second}
    assert len(pids[0]) == 1 and len(pids[1]) == 1 and pids[0] != pids[1], pids
    assert min(pids[0] | pids[1]) >= 0
    assert {r.producer_epoch for r in records} == {0}
    assert [r.sequence for r in first] == list(range(500))
    assert [r.sequence for r in second] == list(range(500))


def test_transactional_producer_is_refused_clearly(shared_broker):
    """NOT IMPLEMENTED BY TERN: transactions. This test asserts the clear failure, not a pass.

    kafkajs's transactional producer first looks up the transaction coordinator
    (FindCoordinator with key type 1); Tern answers COORDINATOR_NOT_AVAILABLE (code 15, which
    kafkajs calls GROUP_COORDINATOR_NOT_AVAILABLE), as it does to InitProducerId with a
    transactional id. kafkajs retries that retriable error, then gives up with
    KafkaJSGroupCoordinatorNotFound (which no longer carries the broker's error, so the script
    also reports the error types kafkajs logged while retrying). Nothing is written. When
    transactions land, replace this with a real begin/send/commit/abort test."""
    bs = shared_broker.bootstrap
    topic = unique_topic("kjs-txn")
    create(bs, topic)
    t0 = time.monotonic()
    res = run_js("transaction.js", expect_ok=False, timeout=90, broker=bs, topic=topic,
                 transactionalId=f"kjs-txn-{uuid.uuid4().hex[:8]}", logLevel="debug",
                 retry={"retries": 2, "initialRetryTime": 100, "maxRetryTime": 500})
    took = time.monotonic() - t0
    summary = json.dumps({k: v for k, v in res.items() if k != "_stderr"})
    assert res["ok"] is False, f"a transaction succeeded against a broker without them: {res}"
    assert res["error"]["name"] == "KafkaJSGroupCoordinatorNotFound", summary
    assert res["loggedErrors"].get("GROUP_COORDINATOR_NOT_AVAILABLE") == 15, summary
    assert took < 60, f"the refusal took {took:.0f}s"
    records, hw = read_partition_records(bs, topic, 0)
    assert hw == 0 and not records
    # The step kafkajs would take next, InitProducerId v1 with the transactional id, is refused
    # the same way.
    with KafkaConn.to(bs) as conn:
        r = init_producer_id(conn, version=1, transactional_id="kjs-txn-wire")
    assert (r.error_code, r.producer_id) == (COORDINATOR_NOT_AVAILABLE, -1), r


# --------------------------------------------------------------------------------------------
# 4. Consumer groups.
def test_two_consumers_share_partitions_and_see_every_message(shared_broker, js_consumers):
    bs = shared_broker.bootstrap
    topic = unique_topic("kjs-group-share")
    create(bs, topic, partitions=4)
    group = unique_group("share")
    c1 = js_consumers(bs, topic, group, "c1")
    c2 = js_consumers(bs, topic, group, "c2")

    def balanced():
        a1, a2 = c1.assignment(topic), c2.assignment(topic)
        if not a1 or not a2 or set(a1) & set(a2) or sorted(a1 + a2) != [0, 1, 2, 3]:
            return None
        return a1, a2
    try:
        a1, a2 = wait_until(balanced, 60, interval=0.1, what="two members sharing 4 partitions")
    except AssertionError as e:
        raise AssertionError(f"{e}; joins c1={c1.evs('join')} c2={c2.evs('join')} "
                             f"crashes={c1.evs('crash') + c2.evs('crash')}") from None
    joins_before = (len(c1.evs("join")), len(c2.evs("join")))

    n = 2000
    for p in range(4):
        produce(bs, topic, n // 4, start=p * (n // 4), partition=p, batch=100,
                compression="gzip" if p % 2 else "none")
    want = {f"m-{i}" for i in range(n)}

    def union():
        return {r[2] for r in c1.recs()} | {r[2] for r in c2.recs()}
    wait_until(lambda: union() >= want, 60, interval=0.2,
               what=f"the two members consuming all {n} messages")
    r1, r2 = c1.stop(), c2.stop()
    rec1, rec2 = c1.recs(), c2.recs()
    assert rec1 and rec2, "one member consumed nothing"
    if (len(c1.evs("join")), len(c2.evs("join"))) == joins_before:
        # No rebalance while consuming: each member read only its own partitions, once.
        assert {r[0] for r in rec1} <= set(a1) and {r[0] for r in rec2} <= set(a2)
        vals = [r[2] for r in rec1 + rec2]
        assert len(vals) == len(set(vals)) == n, f"{len(vals) - len(set(vals))} duplicates"
    assert r1["total"] == len(rec1) and r2["total"] == len(rec2)
    assert not c1.evs("crash") and not c2.evs("crash")


def test_commit_then_restart_resumes_and_group_admin(shared_broker, js_consumers):
    bs = shared_broker.bootstrap
    topic = unique_topic("kjs-group-commit")
    create(bs, topic)
    produce(bs, topic, 100, partition=0, batch=25)
    group = unique_group("commit")

    # Run 1: 40 messages, commit offset 40, stop.
    first = js_consumers(bs, topic, group, "run1", stopAfter=40, commitOnStop=True)
    res = first.result(60)
    assert res["total"] == 40 and res["committed"] == \
        [{"topic": topic, "partition": 0, "offset": "40"}], res
    assert [r[1] for r in first.recs()] == list(range(40))

    r = admin_ops(bs, ("fetchOffsets", [{"groupId": group, "topics": [topic]}]))
    assert ok_value(r[0]) == [{"topic": topic,
                               "partitions": [{"partition": 0, "offset": "40",
                                               "metadata": None}]}], r[0]

    # Run 2 resumes at 40; while it is a member, describe and list the group; it commits 100.
    second = js_consumers(bs, topic, group, "run2", commitOnStop=True)
    wait_until(lambda: len(second.recs()) >= 60, 60, what="run 2 consuming the remaining 60")
    r = admin_ops(bs, ("describeGroups", [[group]]), ("listGroups", []),
                  ("deleteGroups", [[group]]), ("deleteGroups", [[group + "-none"]]),
                  ("describeGroups", [[group + "-none"]]))
    assert not r[2]["ok"] and r[2]["errorTypes"] == ["NON_EMPTY_GROUP"], r[2]
    assert not r[3]["ok"] and r[3]["errorTypes"] == ["GROUP_ID_NOT_FOUND"], r[3]
    assert ok_value(r[4])["groups"][0]["state"] == "Dead", r[4]
    desc = ok_value(r[0])["groups"]
    assert len(desc) == 1 and desc[0]["groupId"] == group and desc[0]["errorCode"] == 0, desc
    assert desc[0]["state"] == "Stable" and desc[0]["protocolType"] == "consumer", desc
    assert len(desc[0]["members"]) == 1 and desc[0]["members"][0]["clientId"] == "run2", desc
    listed = {g["groupId"]: g for g in ok_value(r[1])["groups"]}
    assert listed[group]["protocolType"] == "consumer", listed.get(group)
    res = second.stop(60)
    assert [r[1] for r in second.recs()] == list(range(40, 100)), "run 2 did not resume at 40"
    assert res["committed"][0]["offset"] == "100"

    # Reset to earliest (the group is empty now). kafkajs's resetOffsets joins the group and
    # commits the special offset -2 (earliest) itself; like Kafka, the broker stores a committed
    # offset as given, and a consumer that finds -2 starts from the earliest offset.
    r = admin_ops(bs, ("describeGroups", [[group]]),
                  ("resetOffsets", [{"groupId": group, "topic": topic, "earliest": True}]),
                  ("fetchOffsets", [{"groupId": group, "topics": [topic]}]),
                  timeout=90)
    assert ok_value(r[0])["groups"][0]["state"] == "Empty", r[0]
    assert r[1]["ok"], r[1]
    assert ok_value(r[2])[0]["partitions"][0]["offset"] == "-2", r[2]
    third = js_consumers(bs, topic, group, "run3", stopAfter=5)
    third.result(60)
    assert [r[1] for r in third.recs()] == list(range(5)), "run 3 did not start at earliest"

    # Delete the group: it is gone from listGroups and has no committed offsets.
    r = admin_ops(bs, ("deleteGroups", [[group]]),
                  ("listGroups", []),
                  ("fetchOffsets", [{"groupId": group, "topics": [topic]}]))
    assert ok_value(r[0]) == [{"groupId": group, "errorCode": 0}], r[0]
    assert group not in {g["groupId"] for g in ok_value(r[1])["groups"]}
    assert ok_value(r[2])[0]["partitions"][0]["offset"] == "-1", r[2]
