"""The `tern` command line: version, topic administration against a running broker, `serve
--help`, and where `serve` takes its options from (defaults < TOML file < TERN_* env < flags)."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tern_helpers import (admin, create_topic, free_port, port_accepts, produce_ok, read_from,
                          result_of, unique_topic)
from confluent_kafka.admin import ConfigResource

CLI_TIMEOUT_S = 30

SERVE_OPTIONS = ["--data", "--kafka-listen", "--smp", "--config", "--log-level",
                 "--auto-create-topics", "--default-partitions", "--max-request-bytes", "--flush",
                 "--segment-bytes", "--retention-ms", "--retention-bytes", "--request-timeout-ms"]


def tern(binary, *args, env=None, check=None, timeout=CLI_TIMEOUT_S):
    e = {k: v for k, v in os.environ.items() if not k.startswith("TERN_") or k == "TERN_BINARY"}
    if env:
        e.update(env)
    p = subprocess.run([binary, *args], capture_output=True, timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL)
    p.out = p.stdout.decode(errors="replace")
    p.err = p.stderr.decode(errors="replace")
    if check is True:
        assert p.returncode == 0, f"tern {' '.join(args)} exited {p.returncode}\n" \
                                  f"stdout: {p.out[-2000:]}\nstderr: {p.err[-2000:]}"
    return p


def json_contains(obj, pred):
    if pred(obj):
        return True
    if isinstance(obj, dict):
        return any(json_contains(v, pred) for v in obj.values())
    if isinstance(obj, list):
        return any(json_contains(v, pred) for v in obj)
    return False


def test_version_prints_a_version_and_exits_zero(tern_binary):
    p = tern(tern_binary, "version", check=True)
    assert re.search(r"\d+\.\d+", p.out + p.err), f"no version number in {p.out!r}"


def test_serve_help_documents_every_option(tern_binary):
    p = tern(tern_binary, "serve", "--help", check=True)
    text = p.out + p.err
    missing = [o for o in SERVE_OPTIONS if o not in text]
    assert not missing, f"`tern serve --help` does not mention {missing}\n{text}"


def test_unknown_subcommand_fails(tern_binary):
    assert tern(tern_binary, "no-such-command").returncode != 0


def test_topic_create_list_describe_delete(tern_binary, shared_broker):
    bs = shared_broker.bootstrap
    t = unique_topic("cli-topic")
    tern(tern_binary, "topic", "create", t, "--partitions", "3", "--config",
         "retention.ms=3600000", "--config", "cleanup.policy=delete", "--bootstrap", bs,
         check=True)
    md = admin(bs).list_topics(timeout=10)
    assert t in md.topics and len(md.topics[t].partitions) == 3
    res = ConfigResource(ConfigResource.Type.TOPIC, t)
    a = admin(bs)
    entries = result_of(a.describe_configs([res])[res])
    assert entries["retention.ms"].value == "3600000"

    listed = tern(tern_binary, "topic", "list", "--bootstrap", bs, check=True)
    assert t in listed.out.split() or t in listed.out
    listed_json = json.loads(tern(tern_binary, "topic", "list", "--bootstrap", bs, "--json",
                                  check=True).out)
    assert json_contains(listed_json, lambda o: o == t), listed_json

    desc = tern(tern_binary, "topic", "describe", t, "--bootstrap", bs, check=True)
    assert t in desc.out and "3600000" in desc.out, desc.out
    desc_json = json.loads(tern(tern_binary, "topic", "describe", t, "--bootstrap", bs, "--json",
                                check=True).out)
    assert json_contains(desc_json, lambda o: isinstance(o, dict) and (
        o.get("partitions") == 3 or (isinstance(o.get("partitions"), list) and
                                     len(o["partitions"]) == 3))), desc_json
    assert json_contains(desc_json, lambda o: o == "3600000" or o == 3600000), desc_json

    tern(tern_binary, "topic", "delete", t, "--bootstrap", bs, check=True)
    md = admin(bs).list_topics(timeout=10)
    assert t not in md.topics or md.topics[t].error is not None
    assert t not in tern(tern_binary, "topic", "list", "--bootstrap", bs, check=True).out


def test_topic_create_duplicate_exits_nonzero(tern_binary, shared_broker):
    t = unique_topic("cli-dup")
    tern(tern_binary, "topic", "create", t, "--bootstrap", shared_broker.bootstrap, check=True)
    p = tern(tern_binary, "topic", "create", t, "--bootstrap", shared_broker.bootstrap)
    assert p.returncode != 0
    assert re.search(r"exist", p.out + p.err, re.I), f"no reason given: {p.out!r} {p.err!r}"


def test_topic_describe_and_delete_unknown_exit_nonzero(tern_binary, shared_broker):
    t = unique_topic("cli-nosuch")
    assert tern(tern_binary, "topic", "describe", t,
                "--bootstrap", shared_broker.bootstrap).returncode != 0
    assert tern(tern_binary, "topic", "delete", t,
                "--bootstrap", shared_broker.bootstrap).returncode != 0


def test_topic_command_against_no_broker_fails_within_bounded_time(tern_binary):
    t0 = time.monotonic()
    p = tern(tern_binary, "topic", "list", "--bootstrap", f"127.0.0.1:{free_port()}",
             timeout=60)
    assert p.returncode != 0
    assert time.monotonic() - t0 < 60


def test_topic_bootstrap_flag_overrides_and_env_applies_when_no_flag(tern_binary, shared_broker):
    dead = f"127.0.0.1:{free_port()}"
    # The flag wins over the environment...
    p = tern(tern_binary, "topic", "list", "--bootstrap", shared_broker.bootstrap,
             env={"TERN_BOOTSTRAP": dead}, timeout=60)
    assert p.returncode == 0, p.stderr
    p = tern(tern_binary, "topic", "list", "--bootstrap", dead,
             env={"TERN_BOOTSTRAP": shared_broker.bootstrap}, timeout=60)
    assert p.returncode != 0, "TERN_BOOTSTRAP overrode an explicit --bootstrap"
    # ...and the environment is used when no flag is given.
    p = tern(tern_binary, "topic", "list", env={"TERN_BOOTSTRAP": shared_broker.bootstrap},
             timeout=60)
    assert p.returncode == 0, p.stderr


# ---- configuration layers -----------------------------------------------------------------
def write_toml(broker, text):
    path = os.path.join(broker.tmp_dir, "tern.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def toml_for(data_dir, port, extra=""):
    return f'data = "{data_dir}"\n{extra}\n[kafka]\nlisten = "127.0.0.1:{port}"\n'


def test_serve_takes_port_and_data_dir_from_config_file(broker_factory):
    port = free_port()
    b = broker_factory(args=[], port=port, start=False)
    cfg = write_toml(b, toml_for(b.data_dir, port))
    b.custom_args = ["--config", cfg]
    b.start()
    t = unique_topic("cli-file")
    create_topic(b.bootstrap, t)
    produce_ok(b.bootstrap, t, [{"value": b"x", "partition": 0}])
    assert os.path.isdir(b.data_dir) and any(os.scandir(b.data_dir)), \
        "config file's data directory is empty"
    b.stop()


def test_environment_overrides_config_file(broker_factory):
    file_port, env_port = free_port(), free_port()
    b = broker_factory(args=[], port=env_port, start=False)
    cfg = write_toml(b, toml_for(os.path.join(b.tmp_dir, "file-data"), file_port))
    b.custom_args = ["--config", cfg]
    b.env.update({"TERN_KAFKA_LISTEN": f"127.0.0.1:{env_port}", "TERN_DATA": b.data_dir})
    b.start()
    assert not port_accepts(file_port), "broker listens on the file's port, not the env's"
    create_topic(b.bootstrap, unique_topic("cli-env"))
    assert any(os.scandir(b.data_dir)), "TERN_DATA did not override the file's data"
    assert not os.path.exists(os.path.join(b.tmp_dir, "file-data")) or \
        not any(os.scandir(os.path.join(b.tmp_dir, "file-data")))
    b.stop()


def test_flag_overrides_environment(broker_factory):
    env_port, flag_port = free_port(), free_port()
    b = broker_factory(args=[], port=flag_port, start=False)
    b.custom_args = ["--kafka-listen", f"127.0.0.1:{flag_port}", "--data", b.data_dir]
    b.env.update({"TERN_KAFKA_LISTEN": f"127.0.0.1:{env_port}",
                  "TERN_DATA": os.path.join(b.tmp_dir, "env-data")})
    b.start()
    assert not port_accepts(env_port), "broker listens on the env's port, not the flag's"
    create_topic(b.bootstrap, unique_topic("cli-flag"))
    assert any(os.scandir(b.data_dir))
    b.stop()


def test_environment_alone_configures_serve(broker_factory):
    port = free_port()
    b = broker_factory(args=[], port=port, start=False)
    b.env.update({"TERN_KAFKA_LISTEN": f"127.0.0.1:{port}", "TERN_DATA": b.data_dir,
                  "TERN_SMP": "2", "TERN_STORAGE_FLUSH": "interval"})
    b.start()
    t = unique_topic("cli-envonly")
    create_topic(b.bootstrap, t)
    produce_ok(b.bootstrap, t, [{"value": b"x", "partition": 0}])
    assert read_from(b.bootstrap, t, 0, 0, 1)[0].value == b"x"
    b.stop()


def _expect_refusal(binary, args, env=None, must_mention=None):
    p = tern(binary, "serve", *args, env=env, timeout=20)
    assert p.returncode != 0, f"serve {args} started although its configuration is bad"
    text = p.out + p.err
    if must_mention:
        assert re.search(must_mention, text, re.I), \
            f"error does not name the bad setting ({must_mention}): {text[-1500:]}"


def test_serve_refuses_bad_flag_value(tern_binary, tmp_path):
    _expect_refusal(tern_binary, ["--data", str(tmp_path), "--kafka-listen",
                                  f"127.0.0.1:{free_port()}", "--flush", "sometimes"],
                    must_mention="flush")


def test_serve_refuses_bad_environment_value(tern_binary, tmp_path):
    _expect_refusal(tern_binary, ["--data", str(tmp_path), "--kafka-listen",
                                  f"127.0.0.1:{free_port()}"],
                    env={"TERN_STORAGE_FLUSH": "sometimes"}, must_mention="flush")


def test_serve_refuses_unknown_config_file_key(tern_binary, tmp_path):
    cfg = tmp_path / "tern.toml"
    cfg.write_text(toml_for(tmp_path / "data", free_port(), extra="no_such_key = 1"))
    _expect_refusal(tern_binary, ["--config", str(cfg)], must_mention="no_such_key")


def test_serve_refuses_missing_config_file(tern_binary, tmp_path):
    _expect_refusal(tern_binary, ["--config", str(tmp_path / "absent.toml"),
                                  "--data", str(tmp_path)])


def test_sigint_shuts_down_cleanly_with_exit_zero(broker):
    assert broker.stop(sig=signal.SIGINT) == 0


def test_sigterm_shuts_down_cleanly_with_exit_zero_after_traffic(broker):
    t = unique_topic("cli-term")
    create_topic(broker.bootstrap, t)
    produce_ok(broker.bootstrap, t, [{"value": b"x", "partition": 0}] * 100)
    assert broker.stop() == 0
