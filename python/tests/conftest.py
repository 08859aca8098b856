"""Fixtures of the Python tests: unique bus names, the real shmbus-supervisor and the C++ peer
agent (shmbus_py_peer) as child processes. Binaries come from $SHMBUS_BIN_DIR (ctest sets it
to the build directory), else build/ of the repository."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

import shmbus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SHMBUS_BIN_DIR", os.path.join(REPO, "build"))
SUPERVISOR = os.path.join(BIN_DIR, "agents", "supervisor", "shmbus-supervisor")
CLI = os.path.join(BIN_DIR, "agents", "cli", "shmbus")
PEER = os.path.join(BIN_DIR, "python", "shmbus_py_peer")


def eventually(cond, timeout=10.0, what="condition"):
    """Polls cond() (a cheap read of the segment) until true; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def unique_bus(tag):
    return f"py-{tag}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def bus_name(request):
    return unique_bus(request.node.name[:12].replace("_", "-"))


@pytest.fixture
def embedded(bus_name):
    """An embedded bus (created by this process, no supervisor), removed at the end."""
    b = shmbus.create(bus_name, "py-main")
    yield b
    b.close()


class Supervisor:
    def __init__(self, name):
        self.name = name
        self.proc = subprocess.Popen([SUPERVISOR, "--bus", name, "--period-ms", "20",
                                      "--no-metrics"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            try:
                return shmbus.inspect(name)["supervisor_alive"]
            except shmbus.Error:
                return False
        eventually(up, 10, "the supervisor to create the bus")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            shmbus.remove(self.name, force=True)
        except shmbus.Error:
            pass


@pytest.fixture
def supervisor(bus_name):
    if not os.access(SUPERVISOR, os.X_OK):
        pytest.fail(f"{SUPERVISOR} is missing: build shmbus-supervisor first")
    s = Supervisor(bus_name)
    yield s
    s.stop()


def peer(*args, **kw):
    """Starts shmbus_py_peer with text stdout."""
    if not os.access(PEER, os.X_OK):
        pytest.fail(f"{PEER} is missing: build shmbus_py_peer first")
    return subprocess.Popen([PEER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def python_child(code, *args):
    """Runs `code` in a fresh interpreter (the one running the tests), text stdout."""
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
