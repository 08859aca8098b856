"""shmbus.DurableSubscriber in live mode across real processes: the real supervisor and
journal agent (shmbus-journal), a Python producer, and a Python durable subscriber that is
SIGKILLed at varied points and restarted. Every event is handled, in order; the only repeats
are flagged redelivered; the state stored with each checkpoint saw every event exactly once;
the last run joins the ring and delivers live. Plus journal-follow mode and bad input."""

import os
import random
import signal
import struct
import subprocess

import pytest

import shmbus
from conftest import BIN_DIR, Supervisor, eventually, python_child, unique_bus

JOURNAL_AGENT = os.path.join(BIN_DIR, "agents", "journal", "shmbus-journal")
LAST = 3000       # events published
HOLD_BACK = 200   # the last ones wait for the final subscriber to be live

PRODUCER = r"""
import os, sys, time, shmbus
bus_name, go, last, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bus = shmbus.attach(bus_name, "py-durable-producer", wait="block")
for i in range(1, last + 1):
    if i == last - hold + 1:
        deadline = time.monotonic() + 60
        while not os.path.exists(go):  # the test says when the final subscriber is live
            assert time.monotonic() < deadline, "no go"
            time.sleep(0.01)
    while not bus.publish("user.durable", i.to_bytes(8, "little")):
        time.sleep(0.001)  # full: the killed subscriber's cursor holds the ring until recovery
    if i % 10 == 0:
        time.sleep(0.002)  # a pace the kills can land in
bus.close()
print("published", last)
"""

SUBSCRIBER = r"""
import os, struct, sys, shmbus
jdir, bus_name, effects, last, idle = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    sys.argv[5]
sub = shmbus.DurableSubscriber(jdir, "pydurable", bus=bus_name, topics=["user.*"],
                               seam_timeout=20)
count, total = struct.unpack("<QQ", sub.state) if sub.state else (0, 0)
fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
done = False

def handle(d):
    global count, total, done
    v = int.from_bytes(d["payload"], "little")
    assert d["topic"] == "user.durable" and (d["event_id"] == 0) == d["live"]
    os.write(fd, b"%d %d %d\n" % (v, d["redelivered"], d["live"]))
    count, total = count + 1, total + v
    done = done or v == last

while not done:
    if sub.poll(handle, 64, 0.5) == 0 and not os.path.exists(idle):
        open(idle, "w").close()  # caught up: nothing more to deliver for now
    sub.checkpoint_handed_out(struct.pack("<QQ", count, total))
print("gaps", sub.gaps, "replayed", sub.replayed, "live", sub.delivered_live, flush=True)
"""


def read_effects(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(map(int, line.split())) for line in f.read().splitlines()]


@pytest.fixture
def journaled_bus(tmp_path):
    """A supervised bus whose every event the journal agent records into tmp_path/journal."""
    if not os.access(JOURNAL_AGENT, os.X_OK):
        pytest.fail(f"{JOURNAL_AGENT} is missing: build shmbus-journal first")
    name = unique_bus("durable")
    sup = Supervisor(name)
    jdir = str(tmp_path / "journal")
    agent = subprocess.Popen([JOURNAL_AGENT, "--bus", name, "--dir", jdir, "--file-mb", "4",
                              "--no-resume"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)

    def recording():
        assert agent.poll() is None, agent.stderr.read()
        try:
            return shmbus.recorder_stats(jdir)["pid"] == agent.pid
        except shmbus.Error:
            return False
    try:
        eventually(recording, 10, "the journal agent to record")
        yield name, jdir
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(10)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        sup.stop()


def test_live_durable_subscriber_survives_sigkills_with_only_flagged_repeats(journaled_bus,
                                                                             tmp_path):
    name, jdir = journaled_bus
    effects = str(tmp_path / "effects")
    go = str(tmp_path / "go")
    producer = python_child(PRODUCER, name, go, LAST, HOLD_BACK)
    rng = random.Random(os.getpid())
    kills = 0
    try:
        for run in range(6):
            before = len(read_effects(effects))
            idle = str(tmp_path / f"idle{run}")
            sub = python_child(SUBSCRIBER, jdir, name, effects, LAST, idle)
            more = rng.randrange(20, 300)

            def progressed():  # `more` events handled, or all there is until the go
                assert sub.poll() is None, sub.communicate()
                return len(read_effects(effects)) >= before + more or os.path.exists(idle)
            eventually(progressed, 30, "the durable subscriber to make progress")
            sub.send_signal(signal.SIGKILL)
            assert sub.wait(10) == -signal.SIGKILL
            kills += 1
        # The final run: once it has caught up with what was published, the rest comes live.
        before = len(read_effects(effects))
        idle = str(tmp_path / "idle-last")
        last = python_child(SUBSCRIBER, jdir, name, effects, LAST, idle)

        def caught_up():  # replayed what the journal holds, and found nothing more
            assert last.poll() is None, last.communicate()
            return os.path.exists(idle) and any(v >= LAST - HOLD_BACK
                                                for v, _, _ in read_effects(effects))
        eventually(caught_up, 60, "the final subscriber to catch up")
        open(go, "w").close()
        out, err = last.communicate(timeout=60)
        assert last.returncode == 0, err
        out_p, err_p = producer.communicate(timeout=30)
        assert producer.returncode == 0, err_p
    finally:
        for p in (producer,):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert out.split()[:2] == ["gaps", "0"], out
    seen, repeats, live_final = 0, 0, 0
    for i, (v, redelivered, live) in enumerate(read_effects(effects)):
        if v <= seen:
            assert redelivered == 1, f"unflagged repeat of {v}"
            repeats += 1
        else:
            assert v == seen + 1, f"gap before {v}"
            seen = v
        if i >= before:
            live_final += live
    assert seen == LAST and live_final > 0
    # The state checkpointed with the positions counted every event exactly once.
    with shmbus.DurableSubscriber(jdir, "pydurable") as sub:
        assert struct.unpack("<QQ", sub.state) == (LAST, LAST * (LAST + 1) // 2)
    print(f"durable: {kills} kills, {repeats} flagged repeats, {live_final} live in the last run")


def test_follow_mode_resumes_after_its_checkpoint_and_flags_redeliveries(journaled_bus):
    name, jdir = journaled_bus
    bus = shmbus.attach(name, "py-follow-producer")
    for i in range(1, 101):
        assert bus.publish("user.follow", i.to_bytes(8, "little"))
    eventually(lambda: shmbus.recorder_stats(jdir)["records"] >= 100, 10, "the journal")
    got = []

    def take(d):
        if d["topic"] == "user.follow":
            got.append((int.from_bytes(d["payload"], "little"), d["redelivered"], d["event_id"]))

    sub = shmbus.DurableSubscriber(jdir, "pyfollow")
    while len(got) < 60:  # the journal holds the bus's sys.* events too
        assert sub.poll(take, 1, 1.0) == 1
    assert [g[0] for g in got] == list(range(1, 61))
    handled = got[39][2]
    sub.store_checkpoint(handled, b"state40")  # handled 40; 41..60 were handed out too
    sub.close()
    with pytest.raises(shmbus.Error) as e:
        sub.poll(take)
    assert e.value.code == "state"
    got.clear()
    sub = shmbus.DurableSubscriber(jdir, "pyfollow")
    assert sub.state == b"state40" and sub.checkpoint == handled
    while sub.poll(take, 1000, 0.2):
        pass
    assert [g[0] for g in got] == list(range(41, 101))
    assert [g[1] for g in got] == [True] * 20 + [False] * 40
    assert bus.publish("user.follow", (101).to_bytes(8, "little"))
    with pytest.raises(ZeroDivisionError):  # a raising handler ends the poll and raises
        sub.poll(lambda d: 1 / 0, 10, 5.0)
    with pytest.raises(shmbus.Error) as e:
        shmbus.DurableSubscriber(jdir, "pyfollow")  # one live instance per name
    assert e.value.code == "busy"
    with pytest.raises(shmbus.Error) as e:
        shmbus.DurableSubscriber(jdir, "bad name!")
    assert e.value.code == "invalid_argument"
    with pytest.raises(TypeError, match="callable"):
        sub.poll(42)
    sub.close()
    bus.close()
