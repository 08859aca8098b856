"""Python and C++ agents as separate processes on a bus run by the real shmbus-supervisor:
exactly once, in order, equal typed payloads both ways; SIGKILL of a Python agent."""

import signal
import subprocess

import shmbus
from conftest import eventually, peer, python_child
from test_api import quote

N = 2000


def expected_line(i, producer_seq):
    q = quote(i)
    fields = " ".join(f"{k}={v}" for k, v in q.items())
    return f"seq={producer_seq} {fields}"


def agents(name):
    return {a["name"]: a for a in shmbus.inspect(name)["agents"]}


def test_python_producer_feeds_cpp_subscriber(supervisor, bus_name):
    consumer = peer("consume", bus_name, "md.quote.*", N, 20000)
    assert consumer.stdout.readline().strip() == "ready"
    bus = shmbus.attach(bus_name, "py-producer")
    for i in range(N):
        q = quote(i)
        q["recv_mono_ns"] = 0
        while not bus.publish("md.quote.PY", q):
            pass  # a full ring is an outcome: try again
    out, err = consumer.communicate(timeout=60)
    assert consumer.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == N  # exactly once
    assert lines == [expected_line(i, i + 1) for i in range(N)]  # in order, equal values
    bus.close()


def test_cpp_producer_feeds_python_subscriber(supervisor, bus_name):
    bus = shmbus.attach(bus_name, "py-consumer", wait="block")
    got = []
    seqs_np = []

    def h(e):
        got.append((e.sequence, e.decode()))
        seqs_np.append(int(e.as_numpy()["seq"][0]))  # zero-copy NumPy view of the same bytes

    bus.on("md.quote.*", h)
    producer = peer("produce", bus_name, "md.quote.CPP", N)
    deadline_rounds = 0
    while len(got) < N and deadline_rounds < 600:
        bus.poll_wait(1 << 16, 0.05)
        deadline_rounds += 1
    out, err = producer.communicate(timeout=60)
    assert producer.returncode == 0, err
    bus.poll_wait(1 << 16, 0.2)  # nothing more may come
    assert len(got) == N
    assert [s for s, _ in got] == list(range(1, N + 1))
    for i, (_, q) in enumerate(got):
        assert q["recv_mono_ns"] > 0
        q["recv_mono_ns"] = 0
        assert q == quote(i)
    assert seqs_np == list(range(N))
    bus.close()


KILLED_AGENT = """
import sys, shmbus
bus = shmbus.attach(sys.argv[1], "py-victim")
bus.on("md.quote.*", lambda e: None)
bus.publish("md.quote.K", {"seq": 1})
print("ready", flush=True)
bus.run()
"""


def test_sigkill_of_a_python_agent_is_recovered_and_the_bus_stays_healthy(supervisor, bus_name):
    watcher = shmbus.attach(bus_name, "py-watcher", wait="block")
    left, health = [], []
    watcher.on("sys.agent.left", lambda e: left.append(e.decode()))
    watcher.on_health(health.append)
    child = python_child(KILLED_AGENT, bus_name)
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    assert "py-victim" in agents(bus_name)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    eventually(lambda: "py-victim" not in agents(bus_name), 10, "the supervisor to free the record")
    status = shmbus.inspect(bus_name)
    assert status["agents_recovered"] >= 1
    # The watcher dispatches meanwhile (poll_wait heartbeats): while this process waited for
    # the child, a loaded machine can let its heartbeat age past the unhealthy limit.
    eventually(lambda: watcher.poll_wait(1024, 0.02) >= 0 and
               shmbus.inspect(bus_name)["health"] == "healthy", 10, "a healthy bus")

    def saw_left():
        watcher.poll_wait(1024, 0.02)
        return any(x["agent"] == "py-victim" for x in left)
    eventually(saw_left, 10, "sys.agent.left about py-victim")
    eventually(lambda: watcher.poll() >= 0 and any(
        h["agent"] == "py-victim" and h["new_state"] == "dead" for h in health), 10,
        "the health callback to report py-victim dead")
    # The bus still carries events, and the name can be taken again.
    again = shmbus.attach(bus_name, "py-victim")
    got = []
    watcher.on("md.quote.*", lambda e: got.append(e.decode()["seq"]))
    again.publish("md.quote.K", {"seq": 2})
    ev = watcher.wait_for("md.quote.*", 5.0)
    assert ev.decode()["seq"] == 2 or got == [2]
    again.close()
    watcher.close()


def test_wrong_bus_name_from_a_child_process(bus_name):
    child = python_child("import shmbus, sys\ntry:\n shmbus.attach(sys.argv[1], 'x')\n"
                         "except shmbus.Error as e:\n print(e.code)\n", bus_name + "-none")
    out, _ = child.communicate(timeout=30)
    assert out.strip() == "not_found"


def test_backpressure_callback_reports_a_filling_ring(bus_name):
    from conftest import Supervisor, SUPERVISOR  # a supervisor with 512-slot rings
    import subprocess
    sup = Supervisor.__new__(Supervisor)
    sup.name = bus_name
    sup.proc = subprocess.Popen([SUPERVISOR, "--bus", bus_name, "--period-ms", "20",
                                 "--ring-capacity", "512"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    try:
        def up():
            try:
                return shmbus.inspect(bus_name)["supervisor_alive"]
            except shmbus.Error:
                return False
        eventually(up, 10, "the supervisor")
        slow = shmbus.attach(bus_name, "py-slow", wait="block")
        levels = []
        slow.on_backpressure(lambda ring, level: levels.append((ring, level)))
        slow.on("load.*", lambda e: None)
        pub = shmbus.attach(bus_name, "py-loader", publish_timeout=0.0)
        published = 0
        while published < 512 and pub.publish("load.x", b"x" * 8):
            published += 1  # until the slow subscriber holds the ring full
        assert published >= 256
        ring = lambda: [r for r in shmbus.inspect(bus_name)["rings"] if r["priority"] == "NORMAL"][0]
        eventually(lambda: ring()["level"] != "normal", 10, "backpressure on the NORMAL ring")
        eventually(lambda: slow.poll() >= 0 and any(
            r == shmbus.Priority.NORMAL and lv != "normal" for r, lv in levels), 10,
            "the backpressure callback")
        pub.close()
        slow.close()
    finally:
        sup.stop()
