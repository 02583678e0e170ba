"""Consumer groups against a real broker: membership and rebalancing (eager, cooperative, static),
assignment strategies, fan-out across groups and load balancing inside one, offset commits
(auto, manual sync/async) and auto.offset.reset, kafka-python and kcat as group consumers,
committed offsets surviving a broker restart (SIGTERM and SIGKILL), at-least-once delivery
through a consumer SIGKILL, and group administration (list/describe/delete).

One broker serves the module with --group-initial-rebalance-delay-ms 0 and
--group-min-session-timeout-ms 1000 so that joins are immediate and consumers may use short
session timeouts. Consumers that must be SIGKILLed or closed independently run as subprocesses
(WORKER below) that report their assignment and rebalance callbacks as JSON lines on stdout.
Every wait is bounded.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from typing import Dict, List, Optional

import pytest

from confluent_kafka import Consumer, KafkaError, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KTopicPartition

from tern_helpers import (RDKAFKA_LOGGER, admin, consume_n, consume_none, create_topic,
                          produce_ok, unique_topic, wait_until)

BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "0",
               "--group-min-session-timeout-ms", "1000"]

SESSION_MS = 6000
HEARTBEAT_MS = 500
PY = "/usr/bin/python3"

GROUP_CONF = {
    "session.timeout.ms": SESSION_MS,
    "heartbeat.interval.ms": HEARTBEAT_MS,
    "max.poll.interval.ms": 20000,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": False,
}


def unique_group(hint: str) -> str:
    return f"{hint}-{uuid.uuid4().hex[:8]}"


def gconsumer(bs: str, group: str, **conf):
    """An in-process confluent-kafka group consumer with the module's short timeouts."""
    c = {"bootstrap.servers": bs, "group.id": group, "check.crcs": True,
         "logger": RDKAFKA_LOGGER, **GROUP_CONF}
    c.update({(k if k == "on_commit" else k.replace("_", ".")): v for k, v in conf.items()})
    return Consumer(c)


# --------------------------------------------------------------------------------------------
# Subprocess consumer.
WORKER = r'''
import json, sys, threading, time
from confluent_kafka import Consumer, TopicPartition
cfg = json.loads(sys.argv[1])
conf = cfg["conf"]; topic = cfg["topic"]; mode = cfg.get("mode", "idle")
lock = threading.Lock()
def emit(**kw):
    kw["t"] = time.time()
    with lock:
        sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
cmds = []
def reader():
    for line in sys.stdin:
        if line.strip():
            cmds.append(line.strip())
threading.Thread(target=reader, daemon=True).start()
def on_assign(c, parts): emit(ev="assign", parts=sorted(p.partition for p in parts))
def on_revoke(c, parts): emit(ev="revoke", parts=sorted(p.partition for p in parts))
def on_lost(c, parts): emit(ev="lost", parts=sorted(p.partition for p in parts))
c = Consumer(conf)
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
emit(ev="started")
last = None
since_commit = 0
pace = cfg.get("pace_s", 0.0)
commit_every = cfg.get("commit_every", 500)
deadline = time.monotonic() + cfg.get("max_runtime_s", 120)
while time.monotonic() < deadline:
    if cmds:
        cmd = cmds.pop(0)
        if cmd == "close":
            c.close(); emit(ev="closed"); sys.exit(0)
    msgs = c.consume(num_messages=cfg.get("batch", 100), timeout=0.2)
    seqs = []
    for m in msgs:
        if m.error():
            emit(ev="error", err=str(m.error()), code=m.error().code()); continue
        seqs.append([m.partition(), m.offset(), int(m.value()[:8])])
    if mode == "crash" and seqs:
        emit(ev="processed", recs=seqs)
        since_commit += len(seqs)
        if since_commit >= commit_every:
            offs = c.commit(asynchronous=False)
            emit(ev="committed", offs=[[o.partition, o.offset] for o in offs if o.error is None])
            since_commit = 0
        if pace:
            time.sleep(pace)
    a = sorted(p.partition for p in c.assignment())
    if a != last:
        emit(ev="assignment", parts=a); last = a
emit(ev="timeout")
c.close()
'''


class Worker:
    """A consumer subprocess; `events` collects what it reports, `assignment` is its latest."""

    def __init__(self, bs: str, group: str, topic: str, name: str, mode: str = "idle",
                 conf: Optional[Dict] = None, **cfg):
        full = {"bootstrap.servers": bs, "group.id": group, "client.id": name, **GROUP_CONF}
        full.update(conf or {})
        self.name = name
        self.events: List[Dict] = []
        self.assignment: Optional[List[int]] = None
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [PY, "-c", WORKER, json.dumps({"conf": full, "topic": topic, "mode": mode, **cfg})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)
                if ev["ev"] == "assignment":
                    self.assignment = ev["parts"]

    def evs(self, kind: str, since: float = 0.0) -> List[Dict]:
        with self.lock:
            return [e for e in self.events if e["ev"] == kind and e["t"] >= since]

    def close(self, timeout: float = 20.0):
        """Asks the consumer to close() cleanly and waits for the process to exit."""
        self.proc.stdin.write("close\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout)
        self.reader.join(5)

    def sigkill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.reader.join(5)

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def workers():
    made: List[Worker] = []

    def make(*a, **kw) -> Worker:
        w = Worker(*a, **kw)
        made.append(w)
        return w
    try:
        yield make
    finally:
        for w in made:
            w.cleanup()


def balanced(ws: List[Worker], partitions: int, sizes: Optional[List[int]] = None):
    """The members' assignments if they are all non-empty (or exactly `sizes`, sorted), cover
    0..partitions-1 and do not overlap; else None."""
    got = [w.assignment for w in ws]
    if any(a is None or not a for a in got):
        return None
    flat = [p for a in got for p in a]
    if sorted(flat) != list(range(partitions)):
        return None
    if sizes is not None and sorted(len(a) for a in got) != sorted(sizes):
        return None
    return {w.name: list(w.assignment) for w in ws}


def wait_balanced(ws, partitions, timeout, sizes=None, what="balanced assignment"):
    try:
        return wait_until(lambda: balanced(ws, partitions, sizes), timeout, interval=0.05,
                          what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; assignments: {[(w.name, w.assignment) for w in ws]}") \
            from None


def stable_for(ws, seconds: float):
    """Asserts the assignments do not change for `seconds`."""
    before = [list(w.assignment or []) for w in ws]
    time.sleep(seconds)
    after = [list(w.assignment or []) for w in ws]
    assert before == after, f"assignments changed while the group should be stable: " \
                            f"{before} -> {after}"


# --------------------------------------------------------------------------------------------
# 1. Eager rebalancing: join, SIGKILL, clean close.
def test_members_split_partitions_and_rebalance_on_join_kill_and_close(shared_broker, workers,
                                                                        capsys):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-eager")
    create_topic(bs, topic, partitions=6)
    group = unique_group("eager")
    ws = [workers(bs, group, topic, f"c{i}") for i in range(3)]
    a = wait_balanced(ws, 6, 30, sizes=[2, 2, 2], what="3 members with 2 partitions each")
    stable_for(ws, 1.0)

    # A 4th member joins.
    ws.append(workers(bs, group, topic, "c3"))
    t0 = time.monotonic()
    a = wait_balanced(ws, 6, 30, sizes=[1, 1, 2, 2], what="4 members covering 6 partitions")
    join_s = time.monotonic() - t0

    # SIGKILL one member that owns partitions: the others get its partitions after the session
    # times out.
    victim = ws.pop(0)
    lost = list(victim.assignment)
    victim.sigkill()
    t0 = time.monotonic()
    a = wait_balanced(ws, 6, SESSION_MS / 1000 + 10, what="survivors of SIGKILL own all 6")
    kill_s = time.monotonic() - t0
    assert kill_s <= SESSION_MS / 1000 + 6, f"took {kill_s:.1f}s after SIGKILL"
    assert set(lost) <= {p for v in a.values() for p in v}

    # A clean close(): LeaveGroup, so the others get its partitions well before a session
    # timeout.
    leaver = ws.pop(0)
    leaver.close()
    t0 = time.monotonic()
    a = wait_balanced(ws, 6, SESSION_MS / 1000 + 10, sizes=[3, 3],
                      what="2 remaining members own 3 partitions each")
    close_s = time.monotonic() - t0
    with capsys.disabled():
        print(f"\ngroup-eager: join-rebalance={join_s:.2f}s after-sigkill={kill_s:.2f}s "
              f"after-close={close_s:.2f}s (session.timeout.ms={SESSION_MS})")
    assert close_s < SESSION_MS / 1000, \
        f"after a clean close the rebalance took {close_s:.2f}s, as long as a session timeout: " \
        f"LeaveGroup seems to have had no effect"


# --------------------------------------------------------------------------------------------
# 2. Cooperative-sticky: incremental rebalance.
def test_cooperative_sticky_keeps_partitions_and_adds_the_leavers(shared_broker, workers,
                                                                   capsys):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-coop")
    create_topic(bs, topic, partitions=6)
    group = unique_group("coop")
    conf = {"partition.assignment.strategy": "cooperative-sticky"}
    ws = [workers(bs, group, topic, f"k{i}", conf=conf) for i in range(3)]
    before = wait_balanced(ws, 6, 30, sizes=[2, 2, 2], what="3 cooperative members, 2 each")
    stable_for(ws, 1.5)
    before = {w.name: list(w.assignment) for w in ws}

    leaver = ws.pop(1)
    t_close = time.time()
    leaver.close()
    t0 = time.monotonic()
    after = wait_balanced(ws, 6, SESSION_MS / 1000 + 10, sizes=[3, 3],
                          what="2 cooperative members own 3 partitions each")
    took = time.monotonic() - t0
    for w in ws:
        assert set(before[w.name]) <= set(after[w.name]), \
            f"{w.name} lost partitions in a cooperative rebalance: {before[w.name]} -> " \
            f"{after[w.name]}"
        revoked = [e for e in w.evs("revoke", since=t_close) if e["parts"]]
        assert not revoked, f"{w.name} had partitions revoked: {revoked}"
    gained = {p for w in ws for p in after[w.name]} - {p for w in ws for p in before[w.name]}
    assert gained == set(before[leaver.name])
    with capsys.disabled():
        print(f"\ngroup-cooperative: rebalance after leave={took:.2f}s before={before} "
              f"after={after}")


# --------------------------------------------------------------------------------------------
# 3. range and roundrobin.
@pytest.mark.parametrize("strategy", ["range", "roundrobin"])
def test_assignment_strategy_gives_full_non_overlapping_assignment(shared_broker, workers,
                                                                   strategy):
    bs = shared_broker.bootstrap
    topic = unique_topic(f"grp-{strategy}")
    create_topic(bs, topic, partitions=5)
    group = unique_group(strategy)
    conf = {"partition.assignment.strategy": strategy}
    ws = [workers(bs, group, topic, f"{strategy}{i}", conf=conf) for i in range(2)]
    a = wait_balanced(ws, 5, 30, sizes=[2, 3], what=f"{strategy}: 5 partitions over 2 members")
    if strategy == "range":
        # range gives contiguous blocks, the first (by member id) the larger one.
        assert sorted(map(tuple, a.values())) == [(0, 1, 2), (3, 4)], a
    else:
        assert sorted(map(tuple, a.values())) == [(0, 2, 4), (1, 3)], a


# --------------------------------------------------------------------------------------------
# 4. Static membership.
def test_static_member_restart_gets_same_partitions_without_rebalance(shared_broker, workers):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-static")
    create_topic(bs, topic, partitions=6)
    group = unique_group("static")
    wa = workers(bs, group, topic, "sa", conf={"group.instance.id": "inst-a"})
    wb = workers(bs, group, topic, "sb", conf={"group.instance.id": "inst-b"})
    wait_balanced([wa, wb], 6, 30, sizes=[3, 3], what="2 static members, 3 each")
    stable_for([wa, wb], 1.0)
    a_parts, b_parts = list(wa.assignment), list(wb.assignment)
    t_restart = time.time()
    wa.close()  # a static member's close() does not send LeaveGroup
    wa2 = workers(bs, group, topic, "sa2", conf={"group.instance.id": "inst-a"})
    wait_until(lambda: wa2.assignment, SESSION_MS / 1000, interval=0.05,
               what="restarted static member assigned within the session timeout")
    assert wa2.assignment == a_parts, \
        f"restarted static member got {wa2.assignment}, before it had {a_parts}"
    time.sleep(2.0)  # a rebalance triggered by the rejoin would show by now
    assert wb.assignment == b_parts, f"other member's assignment changed: {b_parts} -> " \
                                     f"{wb.assignment}"
    revoked = wb.evs("revoke", since=t_restart)
    assert not revoked, f"other static member saw a rebalance (revoke callback): {revoked}"
    assert not wb.evs("assign", since=t_restart), "other member got a new assign callback"


# --------------------------------------------------------------------------------------------
# 5. Fan-out across groups, load balancing inside a group.
def _poll_all(consumers, until, timeout, what):
    """Polls every consumer in turn until until() is true; returns {index: [values]}."""
    got = {i: [] for i in range(len(consumers))}
    deadline = time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < deadline, \
            f"{what}: not done within {timeout}s; counts {[len(v) for v in got.values()]}"
        for i, c in enumerate(consumers):
            for m in c.consume(num_messages=500, timeout=0.1):
                assert not m.error(), f"consumer error: {m.error()}"
                got[i].append(m.value())
    return got


def test_two_groups_each_get_everything_and_members_share_without_duplicates(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-fanout")
    create_topic(bs, topic, partitions=4)
    n = 400
    g1, g2 = unique_group("fan1"), unique_group("fan2")
    solo = gconsumer(bs, g1)
    pair = [gconsumer(bs, g2), gconsumer(bs, g2)]
    try:
        for c in [solo, *pair]:
            c.subscribe([topic])
        # Wait until the group of two is balanced before producing, so no partition moves
        # while messages are in flight (which would legitimately re-deliver uncommitted ones).
        _poll_all([solo, *pair], lambda g: all(len(c.assignment()) == 2 for c in pair) and
                  solo.assignment(), 30, "groups formed")
        assert sorted(p.partition for c in pair for p in c.assignment()) == [0, 1, 2, 3]
        produce_ok(bs, topic, [{"value": b"%06d" % i, "partition": i % 4} for i in range(n)])
        want = {b"%06d" % i for i in range(n)}
        got = _poll_all([solo, *pair],
                        lambda g: len(g[0]) >= n and len(g[1]) + len(g[2]) >= n, 30,
                        "fan-out")
        # A short extra poll to catch duplicates that arrive after the counts are reached.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            for i, c in enumerate([solo, *pair]):
                for m in c.consume(num_messages=500, timeout=0.1):
                    assert not m.error()
                    got[i].append(m.value())
        assert len(got[0]) == n and set(got[0]) == want, "group 1 did not get every message once"
        both = got[1] + got[2]
        assert len(both) == n, f"group 2 consumed {len(both)} messages for {n} produced"
        assert set(both) == want
        assert not set(got[1]) & set(got[2]), "a message was consumed by both members"
        assert got[1] and got[2], "one member of the group consumed nothing"
    finally:
        for c in [solo, *pair]:
            c.close()


# --------------------------------------------------------------------------------------------
# 6. Commits and auto.offset.reset.
def _first_offset(bs, topic, group, timeout=30.0, **conf) -> int:
    c = gconsumer(bs, group, **conf)
    try:
        c.subscribe([topic])
        return consume_n(c, 1, timeout)[0].offset
    finally:
        c.close()


def _committed(c, topic, partition=0) -> int:
    return c.committed([TopicPartition(topic, partition)], timeout=10)[0].offset


def test_auto_commit_commits_consumed_position_and_next_consumer_resumes(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-autocommit")
    create_topic(bs, topic, partitions=1)
    produce_ok(bs, topic, [{"value": b"v%d" % i} for i in range(100)])
    group = unique_group("auto")
    c = gconsumer(bs, group, enable_auto_commit=True, auto_commit_interval_ms=200)
    try:
        c.subscribe([topic])
        got = consume_n(c, 40, 30)
        assert [g.offset for g in got] == list(range(40))
        # Auto commit (every 200 ms) stores what was handed to the application: 40.
        wait_until(lambda: _committed(c, topic) == 40, 10, interval=0.3,
                   what="auto-committed offset 40")
    finally:
        c.close()
    assert _first_offset(bs, topic, group) == 40


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_manual_commit_then_new_consumer_resumes_from_committed(shared_broker, asynchronous):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-manual")
    create_topic(bs, topic, partitions=1)
    produce_ok(bs, topic, [{"value": b"v%d" % i} for i in range(100)])
    group = unique_group("manual")
    results = []
    c = gconsumer(bs, group, on_commit=lambda err, parts: results.append((err, parts)))
    try:
        c.subscribe([topic])
        got = consume_n(c, 30, 30)
        assert got[-1].offset == 29
        # Paused, so that waiting for the async commit's callback (which needs polling) hands
        # no further messages to the application; they would move the stored offset the
        # background commit picks up.
        c.pause(c.assignment())
        r = c.commit(asynchronous=asynchronous)
        if asynchronous:
            assert r is None
            deadline = time.monotonic() + 10
            while not results:
                assert time.monotonic() < deadline, "no commit callback within 10s"
                consume_none(c, 0.2)
            err, parts = results[0]
            assert err is None, f"async commit failed: {err}"
        else:
            parts = r
        assert [(p.partition, p.offset, p.error) for p in parts] == [(0, 30, None)], parts
        assert _committed(c, topic) == 30
    finally:
        c.close()
    assert _first_offset(bs, topic, group) == 30
    # An uncommitted consumer in between does not move it.
    assert _first_offset(bs, topic, group) == 30


def test_auto_offset_reset_earliest_latest_and_error(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-reset")
    create_topic(bs, topic, partitions=1)
    produce_ok(bs, topic, [{"value": b"old%d" % i} for i in range(10)])

    assert _first_offset(bs, topic, unique_group("earliest"), auto_offset_reset="earliest") == 0

    c = gconsumer(bs, unique_group("latest"), auto_offset_reset="latest")
    try:
        c.subscribe([topic])
        wait_until(lambda: consume_none(c, 0.3) == [] and c.assignment(), 30,
                   what="latest consumer assigned")
        # Position resolves to the end; nothing old arrives, the new message does.
        assert consume_none(c, 1.0) == []
        produce_ok(bs, topic, [{"value": b"new"}])
        got = consume_n(c, 1, 20)
        assert got[0].offset == 10 and got[0].value == b"new"
    finally:
        c.close()

    c = gconsumer(bs, unique_group("error"), auto_offset_reset="error")
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 30
        err = None
        while err is None:
            assert time.monotonic() < deadline, "no error for auto.offset.reset=error within 30s"
            for m in c.consume(num_messages=10, timeout=0.5):
                assert m.error(), f"consumed offset {m.offset()} with auto.offset.reset=error " \
                                  f"and no committed offset"
                err = m.error()
        assert err.code() == KafkaError._AUTO_OFFSET_RESET, f"unexpected error {err}"
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# 7. kafka-python group consumer.
def kp_consumer(bs, group, topic):
    return KafkaConsumer(topic, bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                         auto_offset_reset="earliest", session_timeout_ms=SESSION_MS,
                         heartbeat_interval_ms=1000, request_timeout_ms=20000,
                         max_poll_interval_ms=20000, client_id="it-kp-group")


def kp_poll_n(c, n, timeout=30.0):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"kafka-python got {len(out)} of {n} records within {timeout}s"
        for recs in c.poll(timeout_ms=500, max_records=n - len(out)).values():
            out.extend(recs)
    return out


def test_kafka_python_group_consume_commit_committed_and_resume(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-kp")
    create_topic(bs, topic, partitions=1)
    produce_ok(bs, topic, [{"value": b"kp%d" % i} for i in range(40)])
    group = unique_group("kp")
    c = kp_consumer(bs, group, topic)
    try:
        recs = kp_poll_n(c, 25)
        assert [r.offset for r in recs] == list(range(25))
        c.commit()
        assert c.committed(KTopicPartition(topic, 0)) == 25
    finally:
        c.close()
    c2 = kp_consumer(bs, group, topic)
    try:
        recs = kp_poll_n(c2, 15)
        assert [r.offset for r in recs] == list(range(25, 40))
        assert [r.value for r in recs] == [b"kp%d" % i for i in range(25, 40)]
    finally:
        c2.close()


# --------------------------------------------------------------------------------------------
# 8. kcat balanced consumer.
def test_kcat_balanced_consumer_consumes_and_commits(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-kcat")
    create_topic(bs, topic, partitions=2)
    n = 30
    produce_ok(bs, topic, [{"value": b"kc%d" % i, "partition": i % 2} for i in range(n)])
    group = unique_group("kcat")
    p = subprocess.run(["kcat", "-b", bs, "-G", group, topic, "-o", "beginning", "-c", str(n),
                        "-q", "-f", "%p:%o:%s\\n",
                        "-X", f"session.timeout.ms={SESSION_MS}",
                        "-X", f"heartbeat.interval.ms={HEARTBEAT_MS}"],
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"kcat exited {p.returncode}: {p.stderr.decode()[-2000:]}"
    lines = p.stdout.decode().split()
    assert sorted(l.split(":", 2)[2] for l in lines) == sorted("kc%d" % i for i in range(n))
    # kcat auto-commits and commits on close: the group's offsets are at the end.
    c = gconsumer(bs, group)
    try:
        got = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
        assert sorted((t.partition, t.offset) for t in got) == [(0, n // 2), (1, n // 2)]
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# 9. Committed offsets survive a broker restart.
def kp_admin(bs):
    return KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=15000,
                            client_id="it-kp-admin")


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_committed_offsets_survive_broker_restart(broker_factory, how):
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic(f"grp-restart-{how}")
    create_topic(bs, topic, partitions=2)
    produce_ok(bs, topic, [{"value": b"r%d" % i, "partition": i % 2} for i in range(40)])
    group = unique_group("restart")
    c = gconsumer(bs, group)
    try:
        c.subscribe([topic])
        consume_n(c, 4, 30)
        offs = c.commit(offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 13)],
                        asynchronous=False)
        assert all(o.error is None for o in offs), offs
    finally:
        c.close()
    if how == "sigterm":
        b.stop()
    else:
        b.kill()
    b.start()

    # OffsetFetch through an admin API (kafka-python; confluent-kafka 1.7 has none).
    a = kp_admin(bs)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                res = a.list_consumer_group_offsets(group)
                break
            except Exception as e:  # coordinator loading after restart: retry, bounded
                assert time.monotonic() < deadline, f"list_consumer_group_offsets: {e!r}"
                time.sleep(0.5)
        assert {tp.partition: om.offset for tp, om in res.items() if tp.topic == topic} == \
            {0: 7, 1: 13}, res
    finally:
        a.close()

    c = gconsumer(bs, group)
    try:
        got = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=15)
        assert sorted((t.partition, t.offset) for t in got) == [(0, 7), (1, 13)]
        c.subscribe([topic])
        recs = consume_n(c, 40 - 7 - 13, 30)
        first = {}
        for r in recs:
            first.setdefault(r.partition, r.offset)
        assert first == {0: 7, 1: 13}, f"resumed at {first}"
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# 10. Consumer SIGKILL mid-consumption: at-least-once.
def test_consumer_sigkill_mid_consumption_loses_nothing(shared_broker, workers, capsys):
    bs = shared_broker.bootstrap
    n = 20000
    topic = unique_topic("grp-crash")
    create_topic(bs, topic, partitions=3)
    reports = produce_ok(bs, topic, [{"value": b"%08d|x" % i, "partition": i % 3}
                                     for i in range(n)])
    group = unique_group("crash")
    a = workers(bs, group, topic, "A", mode="crash", commit_every=500, pace_s=0.02, batch=100)
    deadline = time.monotonic() + 60
    while True:
        processed = sum(len(e["recs"]) for e in a.evs("processed"))
        if processed >= n // 2:
            break
        assert time.monotonic() < deadline, f"consumer A processed only {processed} in 60s"
        assert a.proc.poll() is None, "consumer A exited early"
        time.sleep(0.05)
    a.sigkill()
    a_recs = [tuple(r) for e in a.evs("processed") for r in e["recs"]]
    commits = a.evs("committed")
    assert commits, "consumer A never committed"
    # librdkafka reports partitions whose offset did not change as -1001 (nothing committed):
    # the last commit of a partition is its highest valid offset over all commits.
    last_commit = {}
    for e in commits:
        for p, o in e["offs"]:
            if o >= 0:
                last_commit[p] = max(o, last_commit.get(p, 0))
    assert len(a_recs) < n, "A finished everything before the kill; slow it down"

    b = workers(bs, group, topic, "B", mode="crash", commit_every=500, batch=1000)
    deadline = time.monotonic() + SESSION_MS / 1000 + 60
    a_seqs = {r[2] for r in a_recs}
    while True:
        b_recs = [tuple(r) for e in b.evs("processed") for r in e["recs"]]
        if a_seqs | {r[2] for r in b_recs} >= set(range(n)):
            break
        assert time.monotonic() < deadline, \
            f"B processed {len(b_recs)}; still missing " \
            f"{n - len(a_seqs | {r[2] for r in b_recs})} messages"
        assert b.proc.poll() is None, "consumer B exited early"
        time.sleep(0.1)
    time.sleep(0.5)
    b_recs = [tuple(r) for e in b.evs("processed") for r in e["recs"]]
    b.close()
    errors = a.evs("error") + b.evs("error")
    assert not errors, errors

    offset_of = {i: (r.partition, r.offset) for i, r in enumerate(reports)}
    for (p, o, s) in a_recs + b_recs:
        assert offset_of[s] == (p, o), f"seq {s} read at {p}/{o}, produced at {offset_of[s]}"
    a_seq, b_seq = [r[2] for r in a_recs], [r[2] for r in b_recs]
    assert len(a_seq) == len(set(a_seq)), "A consumed a message twice"
    assert len(b_seq) == len(set(b_seq)), "B consumed a message twice"
    consumed = set(a_seq) | set(b_seq)
    lost = set(range(n)) - consumed
    dups = set(a_seq) & set(b_seq)
    # Duplicates only after A's last commit.
    early = sorted(s for s in dups if offset_of[s][1] < last_commit.get(offset_of[s][0], 0))
    # B starts exactly at A's last commit in each partition (or the one after, if A's final
    # commit landed but was not reported before the kill).
    b_first = {}
    for p, o, _s in b_recs:
        b_first.setdefault(p, o)
    with capsys.disabled():
        print(f"\ngroup-crash: produced={n} consumed_unique={len(consumed)} "
              f"duplicates={len(dups)} lost={len(lost)} (A processed {len(a_seq)}, "
              f"last commit {last_commit}, B started at {b_first})")
    assert not lost, f"{len(lost)} messages lost, e.g. {sorted(lost)[:10]}"
    assert not early, f"{len(early)} duplicates before A's last commit, e.g. {early[:10]}"
    for p, o in b_first.items():
        assert o >= last_commit.get(p, 0), \
            f"B started partition {p} at {o}, before A's last commit {last_commit.get(p)}"


# --------------------------------------------------------------------------------------------
# 11. Admin: list, describe, delete.
def test_admin_lists_describes_and_deletes_group(shared_broker):
    bs = shared_broker.bootstrap
    topic = unique_topic("grp-admin")
    create_topic(bs, topic, partitions=2)
    produce_ok(bs, topic, [{"value": b"a%d" % i, "partition": i % 2} for i in range(10)])
    group = unique_group("admin")
    c = gconsumer(bs, group, client_id="it-admin-member")
    a = admin(bs)
    try:
        c.subscribe([topic])
        consume_n(c, 10, 30)
        c.commit(asynchronous=False)

        def stable():
            gs = a.list_groups(group=group, timeout=10)
            return gs[0] if gs and gs[0].state == "Stable" else None
        g = wait_until(stable, 15, what=f"group {group} Stable in list_groups")
        assert g.id == group
        assert g.protocol_type == "consumer"
        assert g.protocol in ("range", "roundrobin"), g.protocol
        assert len(g.members) == 1
        m = g.members[0]
        assert m.client_id == "it-admin-member"
        assert m.id and m.client_host
        # The member's assignment (consumer protocol bytes) names the topic.
        assert topic.encode() in bytes(m.assignment)
        all_ids = [x.id for x in a.list_groups(timeout=10)]
        assert group in all_ids
    finally:
        c.close()

    g = wait_until(lambda: (lambda gs: gs[0] if gs and gs[0].state == "Empty" else None)(
        a.list_groups(group=group, timeout=10)), 15, what="group Empty after close")
    assert g.members == []

    ka = kp_admin(bs)
    try:
        desc = ka.describe_consumer_groups([group])
        assert desc[0].group == group and desc[0].state == "Empty", desc
        offs = ka.list_consumer_group_offsets(group)
        assert {tp.partition: om.offset for tp, om in offs.items()} == {0: 5, 1: 5}
        assert group in [gid for gid, _ in ka.list_consumer_groups()]
        res = ka.delete_consumer_groups([group])
        assert [(gid, err.errno) for gid, err in res] == [(group, 0)], res
        assert group not in [gid for gid, _ in ka.list_consumer_groups()]
        # Its offsets are gone: a new consumer of that group id starts per auto.offset.reset.
        assert ka.list_consumer_group_offsets(group) == {}
    finally:
        ka.close()
    gs = a.list_groups(group=group, timeout=10)
    assert not gs or gs[0].state == "Dead", gs
