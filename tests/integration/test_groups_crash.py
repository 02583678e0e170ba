"""The broker SIGKILLed mid-consumption under a consumer group (at-least-once end to end).

N numbered messages are produced with acks=all to a 6-partition topic. Three confluent-kafka
(librdkafka) consumers in one group, each a subprocess, consume them at a bounded pace and commit
synchronously every COMMIT_EVERY messages and when partitions are revoked. While they consume,
the broker is SIGKILLed three times (at 25 %, 50 % and 75 % of the messages consumed) and
restarted on the same port and data directory; the consumers are left alone (librdkafka
reconnects). After a short outage the members just carry on: the group and its members are
loaded back, sessions continue, positions are kept in memory, nothing is read twice. The second
outage is longer than session.timeout.ms, so librdkafka gives up its partitions ("lost"), the
members rejoin and read from the committed offsets again: that is where duplicates come from.

Checked at the end:
  * lost = 0: every produced message was consumed at least once, and every delivery is the
    message that was acknowledged at that partition and offset;
  * duplicates only in the window after the last commit: each repeated delivery is charged to
    the assignment it was read under; its offset is at or past the last commit of its partition
    acknowledged before that assignment, and a kill preceded that assignment (nothing is read
    twice after an ordinary rebalance: members commit on revoke); the messages read again
    because of kill k are at most those between the last commit before kill k and the highest
    offset consumed before the partition was read again;
  * the final commits equal the log end of every partition.
The figures (per kill: the uncommitted window at the kill, the duplicates it caused, whether the
group rebalanced, and each re-read as (partition, last commit, restart offset, highest offset
read before)) are printed (pytest -s) and included in the assertion messages.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from confluent_kafka import TopicPartition

from tern_helpers import (BrokerKiller, consumer, create_topic, produce_ok, unique_topic,
                          wait_until)

BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "0",
               "--group-min-session-timeout-ms", "1000"]
PY = "/usr/bin/python3"
N = 30000
PARTITIONS = 6
MEMBERS = 3
COMMIT_EVERY = 1000
KILL_AT = (0.25, 0.5, 0.75)
SESSION_MS = 6000
# How long the broker stays down after each kill: briefly (None: 0.05-0.5 s) or, the second
# time, longer than session.timeout.ms, so that librdkafka gives its partitions up ("session
# timed out ... revoking assignment and rejoining group") and the group rebalances.
DOWN_S = (None, SESSION_MS / 1000 + 2.5, None)
TEST_BUDGET_S = 240

# One group member. Reports JSON lines on stdout: processed records [partition, offset, seq],
# successful commits (offsets as acknowledged by the broker), failed commits, rebalance callbacks
# and client errors (expected while the broker is down: they are reported, not fatal).
WORKER = r'''
import json, sys, threading, time
from confluent_kafka import Consumer, KafkaException
cfg = json.loads(sys.argv[1])
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
def commit(c, why):
    try:
        offs = c.commit(asynchronous=False)
    except KafkaException as e:
        emit(ev="commit_failed", why=why, err=str(e.args[0]))
        return
    ok = [[o.partition, o.offset] for o in offs if o.error is None and o.offset >= 0]
    bad = [[o.partition, str(o.error)] for o in offs if o.error is not None]
    emit(ev="committed", why=why, offs=ok, errs=bad)
def on_assign(c, parts): emit(ev="assign", parts=sorted(p.partition for p in parts))
def on_revoke(c, parts):
    emit(ev="revoke", parts=sorted(p.partition for p in parts))
    commit(c, "revoke")
def on_lost(c, parts): emit(ev="lost", parts=sorted(p.partition for p in parts))
c = Consumer(cfg["conf"])
c.subscribe([cfg["topic"]], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
emit(ev="started")
since_commit = 0
deadline = time.monotonic() + cfg["max_runtime_s"]
while time.monotonic() < deadline:
    if cmds and cmds.pop(0) == "close":
        commit(c, "close")
        c.close(); emit(ev="closed"); sys.exit(0)
    msgs = c.consume(num_messages=cfg["batch"], timeout=0.2)
    recs = []
    for m in msgs:
        if m.error():
            emit(ev="error", err=str(m.error()), code=m.error().code()); continue
        recs.append([m.partition(), m.offset(), int(m.value()[:8])])
    if recs:
        emit(ev="processed", recs=recs)
        since_commit += len(recs)
        if since_commit >= cfg["commit_every"]:
            commit(c, "periodic")
            since_commit = 0
        time.sleep(cfg["pace_s"])
emit(ev="timeout")
c.close()
'''


class Member:
    def __init__(self, bs: str, group: str, topic: str, name: str, max_runtime_s: float):
        conf = {
            "bootstrap.servers": bs, "group.id": group, "client.id": name,
            "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500,
            "max.poll.interval.ms": 60000, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "enable.partition.eof": False, "check.crcs": True,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
            "log_level": 0,
        }
        cfg = {"conf": conf, "topic": topic, "batch": 50, "pace_s": 0.05,
               "commit_every": COMMIT_EVERY, "max_runtime_s": max_runtime_s}
        self.name = name
        self.events: List[Dict] = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([PY, "-c", WORKER, json.dumps(cfg)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            ev["member"] = self.name
            with self.lock:
                self.events.append(ev)

    def evs(self, kind: Optional[str] = None) -> List[Dict]:
        with self.lock:
            return [e for e in self.events if kind is None or e["ev"] == kind]

    def close(self, timeout: float = 30.0):
        if self.proc.poll() is None:
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout)
        self.reader.join(5)

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class RecordingBroker:
    """Passes kill()/start() to the broker and records when the broker went down and came up."""

    def __init__(self, broker):
        self.broker = broker
        self.down_at: List[float] = []
        self.up_at: List[float] = []

    def kill(self):
        self.down_at.append(time.time())
        self.broker.kill()

    def start(self):
        self.broker.start()
        self.up_at.append(time.time())


def test_broker_sigkill_mid_consumption_loses_nothing_and_duplicates_only_after_last_commit(
        broker_factory, capsys):
    t_start = time.monotonic()
    b = broker_factory(extra_args=BROKER_ARGS)
    bs = b.bootstrap
    topic = unique_topic("grp-broker-crash")
    group = f"crash-{uuid.uuid4().hex[:8]}"
    create_topic(bs, topic, partitions=PARTITIONS)
    reports = produce_ok(bs, topic, [{"value": b"%08d|payload" % i, "partition": i % PARTITIONS}
                                     for i in range(N)], timeout=90, acks="all")
    where = {i: (r.partition, r.offset) for i, r in enumerate(reports)}
    log_end = defaultdict(int)
    for p, o in where.values():
        log_end[p] = max(log_end[p], o + 1)

    deadline = time.monotonic() + TEST_BUDGET_S - (time.monotonic() - t_start)
    members = [Member(bs, group, topic, f"m{i}", max_runtime_s=TEST_BUDGET_S)
               for i in range(MEMBERS)]
    rb = RecordingBroker(b)
    try:
        seen: set = set()
        seen_lock = threading.Lock()

        def consumed_unique() -> int:
            with seen_lock:
                for m in members:
                    for e in m.evs("processed"):
                        if not e.get("_counted"):
                            e["_counted"] = True
                            seen.update(r[2] for r in e["recs"])
                return len(seen)

        killer = BrokerKiller(rb, consumed_unique, N, KILL_AT, deadline, seed=7, margin_s=60,
                              down_s=DOWN_S)
        killer.start()
        try:
            wait_until(lambda: consumed_unique() >= N, max(deadline - time.monotonic() - 20, 1),
                       interval=0.2, what=f"all {N} messages consumed")
        finally:
            killer.stop()
        t_done = time.time()  # everything consumed; the members close (and rebalance) later
        assert not killer.errors, f"broker killer failed: {killer.errors!r}"
        assert len(killer.kills) == len(KILL_AT), \
            f"only {len(killer.kills)} kills happened ({killer.kills}): consumption was too fast"
        for m in members:
            assert m.proc.poll() is None, f"consumer {m.name} exited early: {m.evs()[-5:]}"
        time.sleep(1.0)  # let the last periodic commits land
        for m in members:
            m.close()
    finally:
        for m in members:
            m.cleanup()

    # ---- analysis -------------------------------------------------------------------------
    events = sorted((e for m in members for e in m.evs()), key=lambda e: e["t"])
    deliveries: List[Tuple[float, str, int, int, int]] = []
    commits: Dict[int, List[Tuple[float, int]]] = defaultdict(list)  # p -> [(t, offset)]
    commit_failures = 0
    client_errors = 0
    for e in events:
        if e["ev"] == "processed":
            deliveries += [(e["t"], e["member"], p, o, s) for p, o, s in e["recs"]]
        elif e["ev"] == "committed":
            for p, o in e["offs"]:
                commits[p].append((e["t"], o))
        elif e["ev"] == "commit_failed":
            commit_failures += 1
        elif e["ev"] == "error":
            client_errors += 1

    wrong = [(s, p, o, where[s]) for _t, _m, p, o, s in deliveries if where[s] != (p, o)]
    assert not wrong, f"{len(wrong)} deliveries of a message at the wrong place, e.g. {wrong[:5]}"

    def committed_before(p: int, t: float) -> int:
        return max([o for ct, o in commits[p] if ct < t], default=0)

    kills = rb.down_at
    n_kills = len(kills)

    def kill_index(t: float) -> int:
        """-1 before the first kill, else the index of the last kill at or before t."""
        k = -1
        for i, kt in enumerate(kills):
            if kt <= t:
                k = i
        return k

    # Windows after the last commit at each kill: messages of p consumed at or past the last
    # commit before the kill, up to the highest offset of p consumed before the kill.
    windows = []
    for kt in kills:
        w = 0
        for p in range(PARTITIONS):
            hi = max([o for t, _m, pp, o, _s in deliveries if pp == p and t < kt], default=-1)
            w += max(0, hi + 1 - committed_before(p, kt))
        windows.append(w)

    # Rebalances after each kill (before the next one, or before everything was consumed): a
    # member's partitions assigned, revoked or lost. Figures only.
    def rebalanced_after(k: int) -> bool:
        end = kills[k + 1] if k + 1 < n_kills else t_done
        return any(e["ev"] in ("assign", "revoke", "lost") and kills[k] <= e["t"] < end
                   for e in events)
    rebalanced = [rebalanced_after(k) for k in range(n_kills)]

    # A member reads a partition from the committed offset it finds when the partition is
    # assigned to it, so every repeat is charged to the assignment it was read under: it must
    # be at or past the last commit acknowledged before that assignment, and that assignment
    # must have come after a kill (commits on revoke leave nothing to re-read after an ordinary
    # rebalance). A re-read can start well after its kill, even after the next one: a member
    # works through one partition's fetched data before the other's.
    assigns: Dict[str, List[Tuple[float, set]]] = defaultdict(list)
    for e in events:
        if e["ev"] == "assign":
            assigns[e["member"]].append((e["t"], set(e["parts"])))

    def assigned_at(m: str, p: int, t: float) -> Optional[float]:
        return max((ta for ta, parts in assigns[m] if p in parts and ta <= t), default=None)

    first_seen: Dict[Tuple[int, int], float] = {}
    hi_seen: Dict[int, int] = defaultdict(lambda: -1)
    rewinds: Dict[Tuple[str, int, Optional[float]], list] = {}  # -> [kill, p, commit, start, hi]
    repeated = defaultdict(set)        # kill -> {(p, o)} read again under an assignment after it
    dups_after = [0] * (n_kills + 1)   # repeated deliveries; index 0: assigned before any kill
    early = []                         # repeats below their floor or not caused by a kill
    for t, m, p, o, s in deliveries:
        if (p, o) not in first_seen:
            first_seen[(p, o)] = t
            hi_seen[p] = max(hi_seen[p], o)
            continue
        ta = assigned_at(m, p, t)
        k = kill_index(ta) if ta is not None else -1
        floor = committed_before(p, ta) if ta is not None else None
        rewinds.setdefault((m, p, ta), [k, p, floor, o, hi_seen[p]])
        dups_after[k + 1] += 1
        repeated[k].add((p, o))
        if k < 0 or floor is None or o < floor:
            early.append((m, p, o, k, floor))
    # What each kill could cost at most: per partition, the messages from the last commit before
    # the kill up to the highest offset consumed before the partition was read again.
    bounds = []
    for k in range(n_kills):
        his: Dict[int, int] = {}
        for kk, p, _c, _r, hi in rewinds.values():
            if kk == k:
                his[p] = max(his.get(p, -1), hi)
        bounds.append(sum(max(0, hi + 1 - committed_before(p, kills[k]))
                          for p, hi in his.items()))
    consumed = {s for *_x, s in deliveries}
    lost = sorted(set(range(N)) - consumed)
    dups = len(deliveries) - len(first_seen)

    final = consumer(bs, group_id=group)
    try:
        got = final.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=20)
        final_commits = {t.partition: t.offset for t in got}
    finally:
        final.close()

    # Per kill, each partition read again: (partition, last commit before its assignment,
    # offset the re-read started at, highest offset consumed before it).
    detail = {k + 1: sorted((p, c, r, hi) for kk, p, c, r, hi in rewinds.values() if kk == k)
              for k in range(n_kills)}
    figures = (f"produced={N} delivered={len(deliveries)} unique={len(first_seen)} "
               f"lost={len(lost)} duplicates={dups} kills={n_kills} "
               f"uncommitted-window-at-kill={windows} duplicates-after-kill="
               f"{dups_after[1:]} (distinct {[len(repeated[k]) for k in range(n_kills)]}) "
               f"window-up-to-restart-point={bounds} rebalanced-after-kill={rebalanced} "
               f"duplicates-not-after-a-kill={dups_after[0]} "
               f"(commit every {COMMIT_EVERY}/member + on revoke; commits ok="
               f"{sum(len(v) for v in commits.values())} failed={commit_failures}; client "
               f"errors={client_errors}; broker down (s)="
               f"{[round(u - d, 2) for d, u in zip(rb.down_at, rb.up_at)]}; re-read per kill "
               f"(partition, last commit, restart, highest before): {detail})")
    with capsys.disabled():
        print(f"\ngroups-broker-crash: {figures}")
    assert not lost, f"{len(lost)} messages never consumed, e.g. {lost[:10]}; {figures}"
    assert not early, \
        f"{len(early)} repeated deliveries below the last commit before their assignment, or " \
        f"under an assignment no kill preceded (member, partition, offset, kill, last commit), " \
        f"e.g. {early[:10]}; {figures}"
    over = [k for k in range(n_kills) if len(repeated[k]) > bounds[k]]
    assert not over, f"kills {over}: more messages re-read than the window after the last " \
                     f"commit; {figures}"
    assert final_commits == dict(log_end), \
        f"final commits {final_commits} != log end {dict(log_end)}; {figures}"
