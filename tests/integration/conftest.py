"""Fixtures that start a real `tern serve` for the integration tests.

Every broker gets a free port on 127.0.0.1 and its own temporary directory holding the data
directory and a log file with the broker's stdout/stderr. The log's tail is attached to the
report of any test that fails while the broker exists. Processes are ended by their own PID and
temporary directories removed, whatever happens; set TERN_KEEP_TMP=1 to keep the directories.

Fixtures:
  tern_binary     path of the binary under test ($TERN_BINARY, required)
  broker          a fresh broker for one test
  shared_broker   one broker per test module, for tests that do not interfere (unique topics)
  broker_factory  make_broker(extra_args=[...], env={...}) -> started Broker, for tests that
                  need particular options; all are cleaned up after the test
  topic_name      a unique, valid topic name derived from the test's name
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import pytest

from tern_helpers import free_port, port_accepts, unique_topic

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 150

# Every Broker created and not yet cleaned up; used to attach logs to failed reports.
_LIVE_BROKERS: List["Broker"] = []


def _tern_binary_or_fail() -> str:
    path = os.environ.get("TERN_BINARY")
    if not path:
        pytest.fail("TERN_BINARY is not set: run as `TERN_BINARY=/path/to/build/tern "
                    "/usr/bin/python3 -m pytest tests/integration` (or `make integration`)",
                    pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"TERN_BINARY={path!r} is not an executable file (build it with `make build`)",
                    pytrace=False)
    return os.path.abspath(path)


class BrokerError(AssertionError):
    pass


class Broker:
    """One `tern serve` process, restartable on the same port and data directory.

    By default it is started as
        tern serve --data <tmp>/data --kafka-listen 127.0.0.1:<port> <extra_args...>
    Pass `args` to replace everything after `serve` (e.g. to test a config file); then
    `port` must say where the broker is expected to listen.
    """

    def __init__(self, binary: str, extra_args: Sequence[str] = (), env: Optional[Dict] = None,
                 args: Optional[Sequence[str]] = None, port: Optional[int] = None,
                 name: str = "broker"):
        self.binary = binary
        self.tmp_dir = tempfile.mkdtemp(prefix=f"tern-it-{name}-")
        self.data_dir = os.path.join(self.tmp_dir, "data")
        self.log_path = os.path.join(self.tmp_dir, "broker.log")
        self.port = port if port is not None else free_port()
        self.host = "127.0.0.1"
        self.extra_args = list(extra_args)
        self.custom_args = list(args) if args is not None else None
        self.env = dict(os.environ)
        # The broker under test must not pick up a developer's TERN_* settings by accident.
        for k in list(self.env):
            if k.startswith("TERN_") and k != "TERN_BINARY":
                del self.env[k]
        # Brokers started with custom arguments get free AMQP and HTTP ports too (a listener
        # refuses a port another process holds; see command()).
        self.env["TERN_AMQP_LISTEN"] = "127.0.0.1:0"
        self.env["TERN_HTTP_LISTEN"] = "127.0.0.1:0"
        if env:
            self.env.update(env)
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0
        self.exit_codes: List[int] = []
        self.expected_down = True  # False while it should be running
        _LIVE_BROKERS.append(self)

    # ---- properties ----------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> List[str]:
        if self.custom_args is not None:
            return [self.binary, "serve", *self.custom_args]
        # The AMQP and HTTP listeners default to fixed ports (5672, 8080); a test broker that
        # does not ask for them gets free ones, so brokers never share a port.
        defaults = []
        for flag in ("--amqp-listen", "--http-listen"):
            if not any(a == flag or a.startswith(flag + "=") for a in self.extra_args):
                defaults += [flag, "127.0.0.1:0"]
        return [self.binary, "serve", "--data", self.data_dir, "--kafka-listen", self.bootstrap,
                *defaults, *self.extra_args]

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> "Broker":
        assert not self.running(), "broker already running"
        self.starts += 1
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
        self.expected_down = False
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env,
                                         cwd=self.tmp_dir)
        finally:
            log.close()
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_codes.append(rc)
                raise BrokerError(f"tern serve exited with code {rc} before listening on "
                                  f"{self.bootstrap}\n{self.log_tail()}")
            if port_accepts(self.port, self.host):
                return
            time.sleep(0.05)
        raise BrokerError(f"tern serve did not accept connections on {self.bootstrap} within "
                          f"{timeout}s\n{self.log_tail()}")

    def stop(self, timeout: float = STOP_TIMEOUT_S, sig: int = signal.SIGTERM) -> int:
        """Clean shutdown (SIGTERM by default); asserts exit code 0 and returns it."""
        assert self.proc is not None, "broker was never started"
        self.expected_down = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise BrokerError(f"tern serve did not exit within {timeout}s of "
                                  f"{signal.Signals(sig).name}\n{self.log_tail()}")
        rc = self.proc.returncode
        self.exit_codes.append(rc)
        if rc != 0:
            raise BrokerError(f"tern serve exited with code {rc} after "
                              f"{signal.Signals(sig).name}, expected 0\n{self.log_tail()}")
        return rc

    def kill(self) -> None:
        """SIGKILL, as in a crash or power loss of the process (page cache survives)."""
        self.expected_down = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.exit_codes.append(self.proc.returncode)

    def restart(self, timeout: float = START_TIMEOUT_S) -> "Broker":
        """Clean stop (if running) and start again with the same port and data directory."""
        if self.running():
            self.stop()
        return self.start(timeout)

    def cleanup(self) -> None:
        """Kills the process this object started (by PID) and removes the temp directory."""
        try:
            self.kill()
        finally:
            if self in _LIVE_BROKERS:
                _LIVE_BROKERS.remove(self)
            if os.environ.get("TERN_KEEP_TMP") != "1":
                shutil.rmtree(self.tmp_dir, ignore_errors=True)

    # ---- diagnostics ---------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = self.log_text().splitlines()
        return f"--- last {min(lines, len(text))} lines of {self.log_path} ---\n" + \
            "\n".join(text[-lines:])

    def died_unexpectedly(self) -> Optional[str]:
        """A description if the process ended without stop() or kill() asking it to."""
        if self.expected_down or self.proc is None or self.proc.poll() is None:
            return None
        rc = self.proc.returncode
        sig = f" ({signal.Signals(-rc).name})" if rc < 0 else ""
        return f"the broker died during this test: exit code {rc}{sig}\n{self.log_tail()}"

    def assert_alive(self) -> None:
        if not self.running():
            rc = self.proc.poll() if self.proc else None
            raise BrokerError(f"tern serve is not running (exit code {rc})\n{self.log_tail()}")


# --------------------------------------------------------------------------------------------
# Reporting: attach the tail of every live broker's log to a failed test's report.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for b in list(_LIVE_BROKERS):
            report.sections.append((f"tern log ({b.log_path}, pid {b.pid})", b.log_tail()))


# --------------------------------------------------------------------------------------------
# Fixtures.
@pytest.fixture(scope="session")
def tern_binary() -> str:
    return _tern_binary_or_fail()


@pytest.fixture
def broker(tern_binary):
    b = Broker(tern_binary, name="fn")
    try:
        b.start()
        yield b
        died = b.died_unexpectedly()
        if died:
            pytest.fail(died, pytrace=False)
    finally:
        b.cleanup()


@pytest.fixture(scope="module")
def shared_broker(tern_binary, request):
    """One broker for the whole module; a module may set BROKER_ARGS = [...] for its flags."""
    b = Broker(tern_binary, extra_args=getattr(request.module, "BROKER_ARGS", ()), name="mod")
    try:
        b.start()
        yield b
    finally:
        b.cleanup()


@pytest.fixture(autouse=True)
def _shared_broker_guard(request):
    """Keeps one crash of the module's broker from failing every later test in the module:
    a test that finds it dead restarts it (same port and data), and a test during which it
    died fails, with the log."""
    if "shared_broker" not in request.fixturenames:
        yield
        return
    b = request.getfixturevalue("shared_broker")
    if not b.running():
        b.start()
    yield
    died = b.died_unexpectedly()
    if died:
        pytest.fail(died, pytrace=False)


@pytest.fixture
def broker_factory(tern_binary):
    made: List[Broker] = []

    def make(extra_args: Sequence[str] = (), env: Optional[Dict] = None,
             args: Optional[Sequence[str]] = None, port: Optional[int] = None,
             start: bool = True) -> Broker:
        b = Broker(tern_binary, extra_args=extra_args, env=env, args=args, port=port,
                   name="custom")
        made.append(b)
        if start:
            b.start()
        return b

    try:
        yield make
        died = [d for d in (b.died_unexpectedly() for b in made) if d]
        if died:
            pytest.fail("\n".join(died), pytrace=False)
    finally:
        for b in made:
            b.cleanup()


@pytest.fixture
def topic_name(request) -> str:
    return unique_topic(request.node.name)

