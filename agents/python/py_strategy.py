#!/usr/bin/env python3
"""py_strategy: the example pipeline's strategy written in Python, beside the C++ strategies
(agents/examples/common/strategy.cpp) and doing the same job: it follows md.quote.*, keeps a
fast and a slow moving average of each mid price, publishes their spread as a catalogue Signal
on strategy.signal, and once per round votes in barrier "decision" (created by the cio with
participants strategy-1..N) with a DecisionVote. Run as strategy-<id>; the cio must be started
with --strategies covering that id.

    PYTHONPATH=build/python /usr/bin/python3 agents/python/py_strategy.py --bus demo --id 4
"""

import argparse
import logging
import signal
import struct
import sys
import time

import shmbus

DECISION_BARRIER = "decision"
# agents/examples/common/examples.hpp: struct DecisionVote { u64 signal_id; i64 strength_e6;
# i64 ref_price_e9; i64 target_qty; char symbol[16]; } (48 bytes, little-endian)
DECISION_VOTE = struct.Struct("<Qqqq16s")
assert DECISION_VOTE.size == 48


class Track:
    __slots__ = ("fast", "slow", "mid_e9", "quotes")

    def __init__(self):
        self.fast = self.slow = 0.0
        self.mid_e9 = 0
        self.quotes = 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bus", required=True)
    p.add_argument("--id", type=int, default=4, help="agent name strategy-<id>")
    p.add_argument("--vote-interval-ms", type=int, default=100)
    args = p.parse_args(argv)
    me = f"strategy-{args.id}"
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {me} %(levelname)s %(message)s")
    log = logging.getLogger(me)

    bus = shmbus.attach(args.bus, me, wait="block")
    fast_w, slow_w = 0.5 / args.id, 0.05 / args.id
    tracks = {}

    def on_quote(ev):
        q = ev.decode()
        t = tracks.get(q["symbol"])
        if t is None:
            t = tracks[q["symbol"]] = Track()
        t.mid_e9 = (q["bid_price_e9"] + q["ask_price_e9"]) // 2
        mid = t.mid_e9 / 1e9
        t.fast = mid if t.quotes == 0 else t.fast + fast_w * (mid - t.fast)
        t.slow = mid if t.quotes == 0 else t.slow + slow_w * (mid - t.slow)
        t.quotes += 1

    bus.on("md.quote.*", on_quote, name=me + ".quotes")
    barrier = None
    signal_id = accepted = late = 0
    last_vote = last_log = time.monotonic()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: (stopping.append(1), bus.stop()))
    signal.signal(signal.SIGINT, lambda *_: (stopping.append(1), bus.stop()))
    while not stopping:
        bus.run_for(0.02)
        now = time.monotonic()
        if now - last_log >= 1.0:
            log.info("%d symbols tracked, %d votes accepted, %d late", len(tracks), accepted, late)
            last_log = now
        if barrier is None:
            try:  # the cio creates it; retry until then
                barrier = bus.barrier(DECISION_BARRIER)
                log.info("joined barrier %s at round %d", DECISION_BARRIER, barrier.round)
            except shmbus.Error:
                pass
        if not tracks or now - last_vote < args.vote_interval_ms / 1000:
            continue
        symbols = sorted(tracks)
        sym = symbols[(args.id - 1) % len(symbols)]
        t = tracks[sym]
        spread = (t.fast - t.slow) / t.slow if t.slow else 0.0
        strength = int(max(-1.0, min(1.0, spread * 1e4)) * 1e6)
        signal_id += 1
        generation = 0
        if barrier is not None:
            vote = DECISION_VOTE.pack(signal_id, strength, t.mid_e9, int(strength / 100_000),
                                      sym.encode())
            generation = barrier.round
            st = barrier.arrive(vote)
            if st in ("not_open", "already_arrived"):
                continue
            if st == "unknown_barrier":
                barrier = None
                continue
            if st == "late":
                late += 1
            if st != "accepted":
                continue
            accepted += 1
        last_vote = now
        sig = {"signal_id": signal_id, "strength_e6": strength, "confidence_e6": 500_000,
               "target_qty": int(strength / 100_000), "ref_price_e9": t.mid_e9,
               "horizon_ns": 1_000_000_000, "signal_time_ns": time.time_ns(),
               "barrier_generation": generation, "strategy": me, "symbol": sym,
               "direction": (strength > 0) - (strength < 0)}
        if not bus.publish("strategy.signal", sig):
            log.warning("signal %d not published", signal_id)
    log.info("done: %d votes accepted, %d late", accepted, late)
    bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
