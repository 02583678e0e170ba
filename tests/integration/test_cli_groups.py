"""`tern group list|describe|delete|reset-offsets` against a real broker, with groups made by
python3-confluent-kafka consumers (subscribe, consume, commit, close) and checked the way a
user would: the lag the CLI shows, and where a new consumer of the group starts after a reset.

Every test makes its own topic and group; one broker serves the module, with
--group-initial-rebalance-delay-ms 0 so that joining a group does not wait three seconds.
"""

import json
import os
import subprocess
import time
import uuid
from datetime import datetime, timezone

import pytest

from confluent_kafka import TopicPartition

from tern_helpers import (OP_TIMEOUT_S, consume_n, consumer, create_topic, produce_ok,
                          unique_topic, wait_until)

BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "0"]

CLI_TIMEOUT_S = 30
P0_MESSAGES = 10  # records in partition 0
P1_MESSAGES = 6   # records in partition 1
COMMITTED = {0: 4, 1: 2}  # what the first consumer commits
# Record timestamps: partition p, record i has BASE_MS + i * 1000 (one hour ago, whole second).
BASE_MS = (int(time.time()) - 3600) * 1000


def tern(binary, *args, check=None, timeout=CLI_TIMEOUT_S):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERN_")}
    p = subprocess.run([binary, *args], capture_output=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    p.out = p.stdout.decode(errors="replace")
    p.err = p.stderr.decode(errors="replace")
    if check:
        assert p.returncode == 0, f"tern {' '.join(args)} exited {p.returncode}\n" \
                                  f"stdout: {p.out[-3000:]}\nstderr: {p.err[-3000:]}"
    return p


def group_cli(binary, broker, *args, **kw):
    return tern(binary, "group", *args, "--bootstrap", broker.bootstrap, **kw)


def describe_json(binary, broker, group):
    return json.loads(group_cli(binary, broker, "describe", group, "--json", check=True).out)


def partitions_by_index(desc):
    return {p["partition"]: p for p in desc["partitions"]}


def unique_group(hint):
    return f"{hint}-{uuid.uuid4().hex[:8]}"


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def make_topic(bs, hint):
    """A 2-partition topic: P0_MESSAGES records in partition 0, P1_MESSAGES in 1, record i
    with timestamp BASE_MS + i * 1000."""
    t = unique_topic(hint)
    create_topic(bs, t, partitions=2)
    for p, n in ((0, P0_MESSAGES), (1, P1_MESSAGES)):
        produce_ok(bs, t, [{"value": f"p{p}-{i}".encode(), "partition": p,
                            "timestamp": BASE_MS + i * 1000} for i in range(n)])
    return t


def group_consumer(bs, group, **conf):
    return consumer(bs, group_id=group, client_id="it-groups",
                    auto_offset_reset=conf.pop("auto_offset_reset", "earliest"), **conf)


def make_group(bs, topic, group):
    """A consumer of `group` subscribes to `topic`, consumes part of it, commits COMMITTED and
    leaves: the group is then Empty with those offsets."""
    c = group_consumer(bs, group)
    try:
        c.subscribe([topic])
        consume_n(c, 3, timeout=30)  # joined, assigned, fetching
        c.commit(offsets=[TopicPartition(topic, p, o) for p, o in COMMITTED.items()],
                 asynchronous=False)
    finally:
        c.close()


def wait_group_state(binary, broker, group, state, timeout=OP_TIMEOUT_S):
    def check():
        p = group_cli(binary, broker, "describe", group, "--json")
        return json.loads(p.out) if p.returncode == 0 and \
            json.loads(p.out)["state"] == state else None
    return wait_until(check, timeout, what=f"group {group} in state {state}")


def first_offsets(bs, topic, group, timeout=30.0):
    """Where a new consumer of `group` starts in each partition: it subscribes (falling back to
    the end of the log if nothing is committed, which the callers make visible by producing one
    more record per partition first) and returns {partition: offset of the first record}."""
    c = group_consumer(bs, group, auto_offset_reset="latest")
    seen = {}
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(seen) < 2:
            assert time.monotonic() < deadline, f"only saw partitions {seen} within {timeout}s"
            for m in c.consume(num_messages=100, timeout=0.5):
                assert not m.error(), f"consumer error: {m.error()}"
                seen.setdefault(m.partition(), m.offset())
    finally:
        c.close()
    return seen


def produce_one_more(bs, topic):
    for p in (0, 1):
        produce_ok(bs, topic, [{"value": b"extra", "partition": p}])


# --------------------------------------------------------------------------------------------
def test_list_and_describe_show_the_groups_lag(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = make_topic(bs, "grp-lag")
    g = unique_group("grp-lag")
    make_group(bs, t, g)
    desc = wait_group_state(tern_binary, shared_broker, g, "Empty")

    listed = json.loads(group_cli(tern_binary, shared_broker, "list", "--json", check=True).out)
    mine = [x for x in listed if x["group"] == g]
    assert mine == [{"group": g, "protocol_type": "consumer", "state": "Empty"}], listed
    text = group_cli(tern_binary, shared_broker, "list", check=True).out
    assert any(line.split() == [g, "consumer", "Empty"] for line in text.splitlines()), text
    only_stable = json.loads(group_cli(tern_binary, shared_broker, "list", "--state", "Stable",
                                       "--json", check=True).out)
    assert g not in [x["group"] for x in only_stable]
    only_empty = json.loads(group_cli(tern_binary, shared_broker, "list", "--state", "empty",
                                      "--json", check=True).out)
    assert g in [x["group"] for x in only_empty]

    assert desc["member_count"] == 0 and desc["members"] == []
    parts = partitions_by_index(desc)
    assert set(parts) == {0, 1}, desc
    assert (parts[0]["current_offset"], parts[0]["log_end_offset"], parts[0]["lag"]) == \
        (COMMITTED[0], P0_MESSAGES, P0_MESSAGES - COMMITTED[0]), desc
    assert (parts[1]["current_offset"], parts[1]["log_end_offset"], parts[1]["lag"]) == \
        (COMMITTED[1], P1_MESSAGES, P1_MESSAGES - COMMITTED[1]), desc
    assert all(p["topic"] == t and p["consumer_id"] is None for p in parts.values())

    text = group_cli(tern_binary, shared_broker, "describe", g, check=True).out
    assert "State: Empty" in text and "Members: 0" in text, text
    header = "TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID"
    lines = [line.split() for line in text.splitlines()]
    assert header.split() in lines, text
    assert [t, "0", "4", "10", "6", "-", "-", "-"] in lines, text
    assert [t, "1", "2", "6", "4", "-", "-", "-"] in lines, text


def test_describe_active_group_shows_its_members(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = make_topic(bs, "grp-active")
    g = unique_group("grp-active")
    make_group(bs, t, g)
    c = group_consumer(bs, g)
    try:
        c.subscribe([t])
        consume_n(c, 1, timeout=30)
        desc = wait_group_state(tern_binary, shared_broker, g, "Stable")
        assert desc["member_count"] == 1, desc
        member = desc["members"][0]
        assert member["client_id"] == "it-groups", desc
        assert sorted(sum((a["partitions"] for a in member["assignment"] if a["topic"] == t),
                          [])) == [0, 1], desc
        parts = partitions_by_index(desc)
        for p in (0, 1):
            assert parts[p]["consumer_id"] == member["member_id"], desc
            assert parts[p]["client_id"] == "it-groups" and parts[p]["host"], desc
            assert parts[p]["log_end_offset"] == (P0_MESSAGES if p == 0 else P1_MESSAGES)
        text = group_cli(tern_binary, shared_broker, "describe", g, check=True).out
        assert "State: Stable" in text and "Members: 1" in text, text
        assert member["member_id"] in text and "it-groups" in text, text
    finally:
        c.close()


def test_describe_unknown_group_fails(tern_binary, shared_broker):
    p = group_cli(tern_binary, shared_broker, "describe", unique_group("grp-none"))
    assert p.returncode == 1, p.out
    assert "does not exist" in p.err, p.err


def _reset(tern_binary, broker, g, *args):
    p = group_cli(tern_binary, broker, "reset-offsets", g, *args, "--json", check=True)
    plan = json.loads(p.out)
    return {o["partition"]: o["new_offset"] for o in plan["offsets"]}, plan, p


# (reset arguments with {t} for the topic, new offsets {partition: offset}); committed is
# {0: 4, 1: 2}, partition 0 holds 10 records, partition 1 holds 6.
RESETS = {
    "to-earliest": (["--topic", "{t}", "--to-earliest"], {0: 0, 1: 0}),
    "to-latest": (["--topic", "{t}", "--to-latest"], {0: 10, 1: 6}),
    "to-offset-clamped": (["--topic", "{t}", "--to-offset", "7"], {0: 7, 1: 6}),
    "shift-forward": (["--topic", "{t}", "--shift-by", "3"], {0: 7, 1: 5}),
    "shift-back-clamped": (["--topic", "{t}", "--shift-by=-3"], {0: 1, 1: 0}),
    # Partition 0's first record at or after BASE + 7.5 s is record 8; partition 1 has none
    # that late and falls back to its latest offset.
    "to-datetime": (["--topic", "{t}", "--to-datetime", iso(BASE_MS + 7500)], {0: 8, 1: 6}),
    "one-partition": (["--topic", "{t}:1", "--to-earliest"], {1: 0}),
    "all-topics": (["--all-topics", "--to-offset", "5"], {0: 5, 1: 5}),
}


@pytest.mark.parametrize("name", list(RESETS))
def test_reset_offsets_execute_moves_where_a_new_consumer_starts(tern_binary, shared_broker,
                                                                  name):
    args, expected = RESETS[name]
    bs = shared_broker.bootstrap
    t = make_topic(bs, f"grp-reset-{name}")
    g = unique_group(f"grp-reset-{name}")
    make_group(bs, t, g)
    wait_group_state(tern_binary, shared_broker, g, "Empty")

    planned, plan, p = _reset(tern_binary, shared_broker, g, *[a.format(t=t) for a in args],
                              "--execute")
    assert plan["executed"] is True and planned == expected, (plan, p.err)

    parts = partitions_by_index(describe_json(tern_binary, shared_broker, g))
    want = {**COMMITTED, **expected}
    assert {i: parts[i]["current_offset"] for i in parts} == want
    produce_one_more(bs, t)
    assert first_offsets(bs, t, g) == want


def test_reset_offsets_without_execute_is_a_dry_run(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = make_topic(bs, "grp-dry")
    g = unique_group("grp-dry")
    make_group(bs, t, g)
    wait_group_state(tern_binary, shared_broker, g, "Empty")
    for mode in ([], ["--dry-run"]):
        p = group_cli(tern_binary, shared_broker, "reset-offsets", g, "--topic", t,
                      "--to-earliest", *mode, check=True)
        lines = [line.split() for line in p.out.splitlines()]
        assert ["TOPIC", "PARTITION", "NEW-OFFSET"] in lines and [t, "0", "0"] in lines, p.out
        assert "dry run" in p.err, p.err
    parts = partitions_by_index(describe_json(tern_binary, shared_broker, g))
    assert {i: parts[i]["current_offset"] for i in parts} == COMMITTED


def test_reset_and_delete_refuse_an_active_group_then_delete_works(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = make_topic(bs, "grp-busy")
    g = unique_group("grp-busy")
    make_group(bs, t, g)
    c = group_consumer(bs, g)
    try:
        c.subscribe([t])
        consume_n(c, 1, timeout=30)
        wait_group_state(tern_binary, shared_broker, g, "Stable")

        p = group_cli(tern_binary, shared_broker, "reset-offsets", g, "--topic", t,
                      "--to-earliest", "--execute")
        assert p.returncode == 1, p.out
        assert "not empty" in p.err and "Stable" in p.err, p.err
        parts = partitions_by_index(describe_json(tern_binary, shared_broker, g))
        assert parts[0]["current_offset"] == COMMITTED[0]  # nothing was committed

        p = group_cli(tern_binary, shared_broker, "delete", g)
        assert p.returncode == 1, p.out
        assert "NON_EMPTY_GROUP" in p.err and g in p.err, p.err
        assert g in [x["group"] for x in json.loads(
            group_cli(tern_binary, shared_broker, "list", "--json", check=True).out)]
    finally:
        c.close()

    wait_group_state(tern_binary, shared_broker, g, "Empty")
    p = group_cli(tern_binary, shared_broker, "delete", g, check=True)
    assert f"Deleted group {g}." in p.out, p.out
    listed = json.loads(group_cli(tern_binary, shared_broker, "list", "--json", check=True).out)
    assert g not in [x["group"] for x in listed], listed
    p = group_cli(tern_binary, shared_broker, "describe", g)
    assert p.returncode == 1 and "does not exist" in p.err, (p.out, p.err)
    p = group_cli(tern_binary, shared_broker, "delete", g)
    assert p.returncode == 1 and "GROUP_ID_NOT_FOUND" in p.err, p.err


def test_reset_offsets_rejects_unknown_topics_and_partitions(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = make_topic(bs, "grp-bad")
    g = unique_group("grp-bad")
    p = group_cli(tern_binary, shared_broker, "reset-offsets", g, "--topic", t + ":7",
                  "--to-earliest", "--execute")
    assert p.returncode == 1 and "partition 7" in p.err, p.err
    p = group_cli(tern_binary, shared_broker, "reset-offsets", g, "--topic", t + "-nosuch",
                  "--to-earliest", "--execute")
    assert p.returncode == 1 and "does not exist" in p.err, p.err
    p = group_cli(tern_binary, shared_broker, "reset-offsets", g, "--topic", t, "--to-earliest",
                  "--to-latest")
    assert p.returncode > 100, (p.returncode, p.err)  # a usage error
