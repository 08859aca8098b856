"""agents/python/py_strategy.py takes part in the example pipeline's "decision" barrier as the
C++ strategies do: its DecisionVote arrives in the waiter's round and its Signal is published."""

import os
import signal
import struct
import subprocess
import sys

import shmbus
from conftest import REPO
from test_api import quote

VOTE = struct.Struct("<Qqqq16s")  # agents/examples/common/examples.hpp DecisionVote


def test_python_strategy_votes_in_the_decision_barrier(supervisor, bus_name):
    cio = shmbus.attach(bus_name, "cio", wait="block")
    cio.create_barrier("decision", ["strategy-1"], 2.0)
    barrier = cio.barrier("decision")
    barrier.become_waiter()
    signals = []
    cio.on("strategy.signal", lambda e: signals.append(e.decode()))
    agent = subprocess.Popen([sys.executable, os.path.join(REPO, "agents", "python",
                                                           "py_strategy.py"),
                              "--bus", bus_name, "--id", "1", "--vote-interval-ms", "20"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        feed = shmbus.attach(bus_name, "feed")

        def strategy_attached():
            return any(a["name"] == "strategy-1" for a in shmbus.inspect(bus_name)["agents"])
        from conftest import eventually
        eventually(strategy_attached, 20, "strategy-1 to attach")
        rounds = []
        for i in range(400):
            q = quote(i)
            q["symbol"] = "ESZ6"
            feed.publish("md.quote.ESZ6", q)
            try:
                rounds.append(barrier.wait(0.02))
            except shmbus.TimeoutError:
                pass
            if len(rounds) >= 3:
                break
        assert len(rounds) >= 3, agent.stdout.read() if agent.poll() is not None else "no rounds"
        for r in rounds:
            assert r["complete"] and [s["participant"] for s in r["signals"]] == ["strategy-1"]
            signal_id, strength, ref_price, qty, sym = VOTE.unpack(r["signals"][0]["signal"])
            assert sym.rstrip(b"\0") == b"ESZ6" and ref_price > 100_000_000_000
        cio.poll_wait(1 << 10, 0.2)
        assert signals and signals[0]["strategy"] == "strategy-1"
        assert signals[0]["barrier_generation"] == rounds[0]["generation"]
        feed.close()
    finally:
        agent.send_signal(signal.SIGTERM)
        out = agent.communicate(timeout=20)[0]
    assert agent.returncode == 0, out
    assert "votes accepted" in out
    cio.close()
