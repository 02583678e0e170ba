"""AdminClient of python3-confluent-kafka 1.7.0 (librdkafka 2.0.2): topics, configs,
partitions, and the error code of every failure path."""

import pytest
from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewPartitions,
                                   NewTopic)

from tern_helpers import (admin, create_topic, error_code_of, produce_ok, read_from, result_of,
                          unique_topic, wait_topic_visible)


def topic_config(bootstrap, topic):
    a = admin(bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    fs = a.describe_configs([res], request_timeout=15)
    entries = result_of(fs[res])
    assert not isinstance(entries, KafkaError), f"describe_configs({topic}): {entries}"
    return entries


def create_error(bootstrap, new_topic, **kw):
    a = admin(bootstrap)
    fs = a.create_topics([new_topic], request_timeout=15, **kw)
    return error_code_of(fs[new_topic.topic])


def test_create_topics_with_partitions_and_configs_appears_in_metadata(shared_broker):
    t = unique_topic("adm-create")
    a = admin(shared_broker.bootstrap)
    fs = a.create_topics([NewTopic(t, num_partitions=4, replication_factor=1,
                                   config={"retention.ms": "3600000",
                                           "cleanup.policy": "delete"})], request_timeout=15)
    assert result_of(fs[t]) is None
    wait_topic_visible(shared_broker.bootstrap, t, 4)
    md = a.list_topics(timeout=10)
    tm = md.topics[t]
    assert sorted(tm.partitions) == [0, 1, 2, 3]
    (broker_id,) = md.brokers.keys()
    for p in tm.partitions.values():
        assert p.error is None, p.error
        assert p.leader == broker_id
        assert list(p.replicas) == [broker_id] and list(p.isrs) == [broker_id]


def test_list_topics_reports_the_single_broker_with_its_address(shared_broker):
    md = admin(shared_broker.bootstrap).list_topics(timeout=10)
    assert len(md.brokers) == 1, md.brokers
    b = next(iter(md.brokers.values()))
    assert (b.host, b.port) == ("127.0.0.1", shared_broker.port)
    assert md.controller_id == b.id


def test_list_topics_for_one_topic_returns_its_partitions(shared_broker):
    t = unique_topic("adm-one")
    create_topic(shared_broker.bootstrap, t, partitions=2)
    a = admin(shared_broker.bootstrap, **{"allow.auto.create.topics": False})
    md = a.list_topics(topic=t, timeout=10)
    assert len(md.topics[t].partitions) == 2


def test_describe_configs_returns_overrides_and_defaults(shared_broker):
    t = unique_topic("adm-desc")
    create_topic(shared_broker.bootstrap, t, config={"retention.ms": "3600000"})
    entries = topic_config(shared_broker.bootstrap, t)
    for name in ("retention.ms", "retention.bytes", "segment.bytes", "cleanup.policy",
                 "max.message.bytes"):
        assert name in entries, f"{name} missing from DescribeConfigs: {sorted(entries)}"
    rms = entries["retention.ms"]
    assert rms.value == "3600000"
    assert rms.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, \
        f"retention.ms override reported with source {rms.source}"
    assert not rms.is_default
    seg = entries["segment.bytes"]
    assert seg.source != ConfigSource.DYNAMIC_TOPIC_CONFIG.value, \
        "segment.bytes was not overridden but is reported as a topic override"
    assert int(entries["max.message.bytes"].value) > 0


def test_describe_configs_of_unknown_topic_fails_with_unknown_topic(shared_broker):
    a = admin(shared_broker.bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, unique_topic("adm-nosuch"))
    fs = a.describe_configs([res], request_timeout=15)
    assert error_code_of(fs[res]) == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_alter_configs_replaces_the_topic_overrides(shared_broker):
    t = unique_topic("adm-alter")
    create_topic(shared_broker.bootstrap, t,
                 config={"retention.ms": "3600000", "cleanup.policy": "delete",
                         "max.message.bytes": "500000"})
    a = admin(shared_broker.bootstrap)
    res = ConfigResource(ConfigResource.Type.TOPIC, t,
                         set_config={"retention.ms": "7200000", "retention.bytes": "1048576"})
    fs = a.alter_configs([res], request_timeout=15)
    assert result_of(fs[res]) is None
    entries = topic_config(shared_broker.bootstrap, t)
    assert entries["retention.ms"].value == "7200000"
    assert entries["retention.bytes"].value == "1048576"
    # AlterConfigs (not the incremental variant) replaces the whole set of overrides, so
    # max.message.bytes, absent from the request, falls back to the broker default.
    assert entries["max.message.bytes"].value != "500000", \
        "AlterConfigs kept an override that the request did not contain"
    assert entries["max.message.bytes"].source != ConfigSource.DYNAMIC_TOPIC_CONFIG.value


@pytest.mark.parametrize("bad", [{"retention.ms": "not-a-number"},
                                 {"no.such.config.key": "1"},
                                 {"cleanup.policy": "sometimes"}])
def test_alter_configs_with_bad_value_fails_with_invalid_config(shared_broker, bad):
    t = unique_topic("adm-alterbad")
    create_topic(shared_broker.bootstrap, t, config={"retention.ms": "3600000"})
    res = ConfigResource(ConfigResource.Type.TOPIC, t, set_config=bad)
    a = admin(shared_broker.bootstrap)
    fs = a.alter_configs([res], request_timeout=15)
    assert error_code_of(fs[res]) in (KafkaError.INVALID_CONFIG, KafkaError.POLICY_VIOLATION,
                                      KafkaError.INVALID_REQUEST)
    # Nothing changed.
    assert topic_config(shared_broker.bootstrap, t)["retention.ms"].value == "3600000"


def test_alter_configs_of_unknown_topic_fails(shared_broker):
    res = ConfigResource(ConfigResource.Type.TOPIC, unique_topic("adm-alter-nosuch"),
                         set_config={"retention.ms": "1000"})
    a = admin(shared_broker.bootstrap)
    fs = a.alter_configs([res], request_timeout=15)
    assert error_code_of(fs[res]) == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_create_partitions_increases_partition_count_and_new_partition_takes_data(shared_broker):
    t = unique_topic("adm-parts")
    create_topic(shared_broker.bootstrap, t, partitions=1)
    a = admin(shared_broker.bootstrap)
    fs = a.create_partitions([NewPartitions(t, 3)], request_timeout=15)
    assert result_of(fs[t]) is None
    wait_topic_visible(shared_broker.bootstrap, t, 3)
    produce_ok(shared_broker.bootstrap, t, [{"value": b"in-p2", "partition": 2}])
    got = read_from(shared_broker.bootstrap, t, 2, 0, 1)
    assert got[0].value == b"in-p2" and got[0].offset == 0


@pytest.mark.parametrize("count", [1, 2])
def test_create_partitions_not_increasing_fails_with_invalid_partitions(shared_broker, count):
    t = unique_topic("adm-parts-bad")
    create_topic(shared_broker.bootstrap, t, partitions=2)
    a = admin(shared_broker.bootstrap)
    fs = a.create_partitions([NewPartitions(t, count)],
                                                          request_timeout=15)
    assert error_code_of(fs[t]) == KafkaError.INVALID_PARTITIONS


def test_create_partitions_of_unknown_topic_fails(shared_broker):
    t = unique_topic("adm-parts-nosuch")
    a = admin(shared_broker.bootstrap)
    fs = a.create_partitions([NewPartitions(t, 3)],
                                                          request_timeout=15)
    assert error_code_of(fs[t]) == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_delete_records_through_admin_client():
    if not hasattr(AdminClient, "delete_records"):
        pytest.skip("python3-confluent-kafka 1.7.0 has no AdminClient.delete_records; "
                    "DeleteRecords is covered over the wire in test_storage_behaviour.py")


def test_delete_topics_removes_topic_from_metadata(shared_broker):
    t = unique_topic("adm-del")
    create_topic(shared_broker.bootstrap, t, partitions=2)
    a = admin(shared_broker.bootstrap)
    fs = a.delete_topics([t], request_timeout=15)
    assert result_of(fs[t]) is None
    md = a.list_topics(timeout=10)
    assert t not in md.topics or md.topics[t].error is not None


def test_delete_then_recreate_topic_starts_empty(shared_broker):
    t = unique_topic("adm-recreate")
    create_topic(shared_broker.bootstrap, t)
    produce_ok(shared_broker.bootstrap, t, [{"value": b"old", "partition": 0}])
    a = admin(shared_broker.bootstrap)
    fs = a.delete_topics([t], request_timeout=15)
    assert result_of(fs[t]) is None
    create_topic(shared_broker.bootstrap, t)
    produce_ok(shared_broker.bootstrap, t, [{"value": b"new", "partition": 0}])
    got = read_from(shared_broker.bootstrap, t, 0, 0, 1)
    assert (got[0].offset, got[0].value) == (0, b"new")


def test_create_existing_topic_fails_with_topic_already_exists(shared_broker):
    t = unique_topic("adm-dup")
    create_topic(shared_broker.bootstrap, t)
    assert create_error(shared_broker.bootstrap, NewTopic(t, 1, 1)) == \
        KafkaError.TOPIC_ALREADY_EXISTS


def test_delete_unknown_topic_fails_with_unknown_topic_or_part(shared_broker):
    t = unique_topic("adm-del-nosuch")
    a = admin(shared_broker.bootstrap)
    fs = a.delete_topics([t], request_timeout=15)
    assert error_code_of(fs[t]) == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_create_topic_with_zero_partitions_fails_with_invalid_partitions(shared_broker):
    t = unique_topic("adm-zero")
    assert create_error(shared_broker.bootstrap, NewTopic(t, 0, 1)) == \
        KafkaError.INVALID_PARTITIONS


def test_create_topic_with_replication_factor_above_broker_count_fails(shared_broker):
    t = unique_topic("adm-rf")
    assert create_error(shared_broker.bootstrap, NewTopic(t, 1, 3)) == \
        KafkaError.INVALID_REPLICATION_FACTOR


@pytest.mark.parametrize("bad", [{"retention.ms": "forever"},
                                 {"no.such.config.key": "1"},
                                 {"cleanup.policy": "sometimes"},
                                 {"segment.bytes": "-5"}])
def test_create_topic_with_bad_config_fails_with_invalid_config(shared_broker, bad):
    t = unique_topic("adm-badcfg")
    assert create_error(shared_broker.bootstrap, NewTopic(t, 1, 1, config=bad)) in \
        (KafkaError.INVALID_CONFIG, KafkaError.POLICY_VIOLATION)
    md = admin(shared_broker.bootstrap).list_topics(timeout=10)
    assert t not in md.topics or md.topics[t].error is not None, "rejected topic was created"


@pytest.mark.parametrize("name", ["bad/name", "x" * 250, "..", "spaces are bad"])
def test_create_topic_with_invalid_name_fails_with_invalid_topic(shared_broker, name):
    assert create_error(shared_broker.bootstrap, NewTopic(name, 1, 1)) == \
        KafkaError.TOPIC_EXCEPTION


def test_create_topics_validate_only_does_not_create(shared_broker):
    t = unique_topic("adm-validate")
    assert create_error(shared_broker.bootstrap, NewTopic(t, 2, 1), validate_only=True) == 0
    md = admin(shared_broker.bootstrap).list_topics(timeout=10)
    assert t not in md.topics or md.topics[t].error is not None, \
        "validate_only create_topics created the topic"
