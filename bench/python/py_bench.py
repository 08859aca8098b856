#!/usr/bin/env python3
"""Python benchmark of shmbus beside pyzmq ipc://, multiprocessing.Queue and
multiprocessing.Pipe, all in one run, 64-byte messages, sender pinned to one core and receiver
to the other (taskset for the C++ peer, os.sched_setaffinity -- the same syscall -- for Python
children).

  in-process            the binding alone: publish, publish_batch with no subscriber and a
                        Python handler per event, on an embedded bus in one process
  shmbus publish rate   Python publish() in single calls, a C++ busy-spin subscriber draining
                        and counting (mode "count": no clock read per event, like the peers'
                        receivers); the run fails unless it received every event
  shmbus batch rate     publish_batch() of a NumPy array of 64-byte items, the same sink
  shmbus receive rate   C++ producer flat out, Python handler per event
  shmbus latency        one-way, from a CLOCK_MONOTONIC stamp in the message to the handler,
                        paced sends: Python -> C++ (C++ busy-spin subscriber) and C++ -> Python
                        (Python agent with wait="busy_spin"); then both with futex-blocking
                        subscribers (wait="block"), comparable to the peers' blocking reads
  peers                 the same 64-byte messages: throughput flat out, latency paced

Usage (from the repo, after scripts/build.sh release _shmbus shmbus_py_peer shmbus-supervisor):
  PYTHONPATH=build/python /usr/bin/python3 bench/python/py_bench.py [--count N] [--json FILE]
"""

import argparse
import json
import multiprocessing as mp
import os
import statistics
import struct
import subprocess
import sys
import time

import numpy as np

import shmbus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SHMBUS_BIN_DIR", os.path.join(REPO, "build"))
SUPERVISOR = os.path.join(BIN, "agents", "supervisor", "shmbus-supervisor")
PEER = os.path.join(BIN, "python", "shmbus_py_peer")
SEND_CPU, RECV_CPU = 0, 1
PACE_US = 50  # latency runs send one message every 50 us
STAMP = struct.Struct("<Q56x")  # 64 bytes: a monotonic timestamp, then padding
SHM_STAMP = struct.Struct("<QQ48x")  # shmbus payloads: index, CLOCK_MONOTONIC stamp (cpp_peer)


PIN = True  # --no-pin: let the scheduler place everything (a loaded shared machine)


def pin(cpu):
    if PIN:
        os.sched_setaffinity(0, {cpu})


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if PIN else []


def spin_until(t_ns):
    while time.monotonic_ns() < t_ns:
        pass


def pct(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


# ---- shmbus ---------------------------------------------------------------------------------

class Bus:
    def __init__(self):
        self.name = f"pybench-{os.getpid()}"
        self.sup = subprocess.Popen([SUPERVISOR, "--bus", self.name, "--ring-capacity", "65536"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if shmbus.inspect(self.name)["supervisor_alive"]:
                    break
            except shmbus.Error:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("supervisor did not start")
            time.sleep(0.02)

    def close(self):
        self.sup.terminate()
        self.sup.wait(10)


def cpp_subscriber(bus, topic, count, mode="latency"):
    p = subprocess.Popen([*taskset(RECV_CPU), PEER, mode, bus, topic,
                          str(count), "60000"], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def cpp_drained(p):
    """Waits for a count subscriber: it exits 0 only when it got every event, so a rate is
    never claimed for events that were shed or lost on the way."""
    p.communicate(timeout=120)
    if p.returncode != 0:
        raise RuntimeError("the C++ subscriber did not receive every event")


def cpp_latency(p):
    out = p.communicate(timeout=120)[0]
    line = [x for x in out.splitlines() if x.startswith("latency_ns")][0]
    vals = dict(kv.split("=") for kv in line.split()[1:])
    return int(vals["p50"]) / 1000, int(vals["p99"]) / 1000


def shm_publish_rate(bus, n):
    sub = cpp_subscriber(bus, "bench.py.single", n, "count")
    pin(SEND_CPU)
    b = shmbus.attach(bus, "py-bench-pub")
    tid = b.register_topic("bench.py.single", 64)
    payload = bytes(64)
    publish = b.publish
    t0 = time.perf_counter()
    for _ in range(n):
        if not publish(tid, payload):
            while not publish(tid, payload):
                pass
    dt = time.perf_counter() - t0
    cpp_drained(sub)
    b.close()
    return n / dt


def shm_batch_rate(bus, n):
    sub = cpp_subscriber(bus, "bench.py.batch", n, "count")
    pin(SEND_CPU)
    b = shmbus.attach(bus, "py-bench-batch")
    tid = b.register_topic("bench.py.batch", 64)
    items = np.zeros(n, dtype="V64")
    t0 = time.perf_counter()
    done, chunk = 0, 8192
    while done < n:
        done += b.publish_batch(tid, items[done:done + chunk])
    dt = time.perf_counter() - t0
    cpp_drained(sub)
    b.close()
    return n / dt


def shm_receive_rate(bus, n):
    pin(RECV_CPU)
    b = shmbus.attach(bus, "py-bench-recv", wait="busy_spin", handler_budget=0)
    b.register_topic("bench.cpp.rate", 64)
    state = {"n": 0, "t0": 0, "t1": 0}

    def h(ev):
        if state["n"] == 0:
            state["t0"] = time.perf_counter()
        state["n"] += 1
        if state["n"] == n:
            state["t1"] = time.perf_counter()
            b.stop()

    b.on("bench.cpp.rate", h)
    prod = subprocess.Popen([*taskset(SEND_CPU), PEER, "produce64", bus,
                             "bench.cpp.rate", str(n)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while state["n"] < n and time.monotonic() < deadline:
        b.run_for(0.5)
    prod.wait(60)
    b.close()
    return (n - 1) / (state["t1"] - state["t0"])


def shm_latency_py_to_cpp(bus, n, block=False):
    sub = cpp_subscriber(bus, "bench.py.lat", n, "latency-block" if block else "latency")
    pin(SEND_CPU)
    b = shmbus.attach(bus, "py-bench-lat")
    tid = b.register_topic("bench.py.lat", 64)
    pack, now = SHM_STAMP.pack, time.monotonic_ns
    for i in range(n):
        t = now()
        b.publish(tid, pack(i, t))
        spin_until(t + PACE_US * 1000)
    p50, p99 = cpp_latency(sub)
    b.close()
    return p50, p99


def shm_latency_cpp_to_py(bus, n, block=False):
    pin(RECV_CPU)
    b = shmbus.attach(bus, "py-bench-latrx", wait="block" if block else "busy_spin",
                      handler_budget=0)
    b.register_topic("bench.cpp.lat", 64)
    lat = []
    now, unpack = time.monotonic_ns, SHM_STAMP.unpack_from

    def h(ev):
        lat.append(now() - unpack(ev.payload)[1])
        if len(lat) == n:
            b.stop()

    b.on("bench.cpp.lat", h)
    prod = subprocess.Popen([*taskset(SEND_CPU), PEER, "produce64", bus,
                             "bench.cpp.lat", str(n), str(PACE_US)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(lat) < n and time.monotonic() < deadline:
        b.run_for(0.5)
    prod.wait(60)
    b.close()
    return pct(lat, 0.5) / 1000, pct(lat, 0.99) / 1000


def shm_in_process(_bus, n):
    """The binding's own cost, without another process to wait for: an embedded bus in this
    process, publish in single calls (topic by id) and publish_batch with no subscriber, then
    a Python handler per event polled from the ring. Pinned to one core."""
    pin(SEND_CPU)
    b = shmbus.create(f"pybench-inproc-{os.getpid()}", "inproc", ring_capacity=65536)
    tid = b.register_topic("bench.inproc", 64)
    payload, publish = bytes(64), b.publish
    items = np.zeros(n, dtype="V64")
    for _ in range(2):  # untimed: fault the fresh segment's ring pages in, warm the caches
        b.publish_batch(tid, items[:65536])
    t0 = time.perf_counter()
    for _ in range(n):
        publish(tid, payload)
    single = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    done = 0
    while done < n:
        done += b.publish_batch(tid, items[done:done + 8192])
    batch = n / (time.perf_counter() - t0)
    count = [0]

    def h(ev):
        count[0] += 1

    b.on("bench.inproc", h)
    m, t_recv = 0, 0.0
    while m < n:
        k = min(32768, n - m)  # a part of the ring at a time: the handler's agent gates it
        b.publish_batch(tid, items[:k])
        t0 = time.perf_counter()
        while b.poll():
            pass
        t_recv += time.perf_counter() - t0
        m += k
    b.close()
    return single, batch, count[0] / t_recv


# ---- peers: one sender and one receiver process, pinned -------------------------------------

def _paced_sender(send, n):
    pin(SEND_CPU)
    for _ in range(n):
        t = time.monotonic_ns()
        send(STAMP.pack(t))
        spin_until(t + PACE_US * 1000)


def _flat_sender(send, n):
    pin(SEND_CPU)
    msg = bytes(64)
    for _ in range(n):
        send(msg)


def _receiver(recv, n, mode, out):
    pin(RECV_CPU)
    if mode == "lat":
        lat = []
        for _ in range(n):
            m = recv()
            lat.append(time.monotonic_ns() - STAMP.unpack(m)[0])
        out.put((pct(lat, 0.5) / 1000, pct(lat, 0.99) / 1000))
    else:
        recv()
        t0 = time.perf_counter()
        for _ in range(n - 1):
            recv()
        out.put((n - 1) / (time.perf_counter() - t0))


def _zmq_sender(addr, n, mode):
    import zmq
    s = zmq.Context().socket(zmq.PUSH)
    s.setsockopt(zmq.SNDHWM, 100000)
    s.connect(addr)
    time.sleep(0.2)  # let the connection settle before timing starts
    (_paced_sender if mode == "lat" else _flat_sender)(s.send, n)
    s.close(linger=-1)


def _zmq_receiver(addr, n, mode, out, ready):
    import zmq
    s = zmq.Context().socket(zmq.PULL)
    s.setsockopt(zmq.RCVHWM, 100000)
    s.bind(addr)
    ready.set()
    _receiver(s.recv, n, mode, out)


def peer_zmq(n, mode):
    addr = f"ipc:///tmp/pybench-{os.getpid()}.ipc"
    out, ready = mp.Queue(), mp.Event()
    r = mp.Process(target=_zmq_receiver, args=(addr, n, mode, out, ready))
    r.start()
    ready.wait(10)
    s = mp.Process(target=_zmq_sender, args=(addr, n, mode))
    s.start()
    res = out.get(timeout=300)
    s.join()
    r.join()
    return res


def _mp_recv_proc(kind, chan, n, mode, out):
    _receiver(chan.get if kind == "queue" else chan.recv_bytes, n, mode, out)


def _mp_send_proc(kind, chan, n, mode):
    send = chan.put if kind == "queue" else chan.send_bytes
    (_paced_sender if mode == "lat" else _flat_sender)(send, n)
    if kind == "queue":
        chan.close()
        chan.join_thread()


def peer_mp(kind, n, mode):
    out = mp.Queue()
    if kind == "queue":
        rx = tx = mp.Queue()
    else:
        rx, tx = mp.Pipe(duplex=False)
    r = mp.Process(target=_mp_recv_proc, args=(kind, rx, n, mode, out))
    s = mp.Process(target=_mp_send_proc, args=(kind, tx, n, mode))
    r.start()
    s.start()
    res = out.get(timeout=300)
    s.join()
    r.join()
    return res


# ---- the run --------------------------------------------------------------------------------

def run(n_rate, n_lat):
    res = {}
    bus = Bus()
    try:
        # Each measurement in its own process: pinning and GC state do not leak between them.
        with mp.get_context("fork").Pool(1, maxtasksperchild=1) as pool:
            def call(f, *a):
                return pool.apply(f, (bus.name, *a))
            single, batch, recv = call(shm_in_process, n_rate)
            res["in-process publish (single calls), M/s"] = single / 1e6
            res["in-process publish_batch (NumPy), M/s"] = batch / 1e6
            res["in-process receive (Python handler), M/s"] = recv / 1e6
            res["shmbus publish (single calls), M/s"] = call(shm_publish_rate, n_rate) / 1e6
            res["shmbus publish_batch (NumPy), M/s"] = call(shm_batch_rate, 4 * n_rate) / 1e6
            res["shmbus receive (Python handler), M/s"] = call(shm_receive_rate, n_rate) / 1e6
            res["shmbus latency Python->C++ p50/p99 us"] = call(shm_latency_py_to_cpp, n_lat)
            res["shmbus latency C++->Python p50/p99 us"] = call(shm_latency_cpp_to_py, n_lat)
            res["shmbus blocking latency Python->C++ p50/p99 us"] = call(
                shm_latency_py_to_cpp, n_lat, True)
            res["shmbus blocking latency C++->Python p50/p99 us"] = call(
                shm_latency_cpp_to_py, n_lat, True)
    finally:
        bus.close()
    for name, kind in (("pyzmq ipc", "zmq"), ("multiprocessing.Pipe", "pipe"),
                       ("multiprocessing.Queue", "queue")):
        f = peer_zmq if kind == "zmq" else (lambda n, m, k=kind: peer_mp(k, n, m))
        res[f"{name} throughput, M/s"] = f(n_rate // 4, "rate") / 1e6
        res[f"{name} latency p50/p99 us"] = f(n_lat, "lat")
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000, help="messages per rate run")
    ap.add_argument("--latency-count", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    ap.add_argument("--json", help="write the figures of every run here")
    ap.add_argument("--no-pin", action="store_true", help="do not pin sender and receiver")
    args = ap.parse_args()
    global PIN
    PIN = not args.no_pin
    runs = [run(args.count, args.latency_count) for _ in range(args.runs)]
    med = {}
    for k in runs[0]:
        vals = [r[k] for r in runs]
        if isinstance(vals[0], tuple):
            med[k] = tuple(statistics.median(v[i] for v in vals) for i in range(2))
        else:
            med[k] = statistics.median(vals)
    for k, v in med.items():
        txt = "/".join(f"{x:.2f}" for x in v) if isinstance(v, tuple) else f"{v:.3f}"
        print(f"{k:45s} {txt}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "median": med}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
