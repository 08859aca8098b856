"""The Python API on an embedded bus (one process): verbs, zero-copy views, NumPy, errors,
handler isolation, asyncio and the GIL."""

import asyncio
import threading
import time

import numpy as np
import pytest

import shmbus


def quote(i):
    return {"symbol": f"SYM{i % 7}", "venue": "XNAS", "bid_price_e9": 100_000_000_000 + i,
            "ask_price_e9": 100_250_000_000 + i, "bid_qty": i, "ask_qty": -3 * i,
            "exchange_time_ns": i * 1000, "recv_mono_ns": 0, "seq": i,
            "bid_orders": i % 1000, "ask_orders": 0xFFFFFFFF - i}


def test_on_once_on_any_patterns_and_off(embedded):
    seen = {"exact": [], "prefix": [], "once": [], "any": []}
    s_exact = embedded.on("md.quote.ESZ6", lambda e: seen["exact"].append(e.sequence))
    embedded.on("md.quote.*", lambda e: seen["prefix"].append(e.topic_name))
    embedded.once("md.*", lambda e: seen["once"].append(e.topic_name))
    embedded.on_any(lambda e: seen["any"].append(e.topic_name))
    for t in ("md.quote.ESZ6", "md.quote.NQZ6", "md.trade.ESZ6"):
        assert embedded.publish(t, quote(1) if "quote" in t else {"qty": 1})
    embedded.poll()
    embedded.off(s_exact)
    embedded.publish("md.quote.ESZ6", quote(2))
    embedded.poll()
    assert seen["exact"] == [1]
    assert seen["prefix"] == ["md.quote.ESZ6", "md.quote.NQZ6", "md.quote.ESZ6"]
    assert seen["once"] == ["md.quote.ESZ6"]
    assert [t for t in seen["any"] if not t.startswith("sys.")] == [
        "md.quote.ESZ6", "md.quote.NQZ6", "md.trade.ESZ6", "md.quote.ESZ6"]
    with pytest.raises(shmbus.Error) as e:
        embedded.off(s_exact)
    assert e.value.code == "not_found"


def test_dict_payload_round_trips_through_the_field_list(embedded):
    got = []
    embedded.on("md.quote.*", lambda e: got.append(e.decode()))
    embedded.publish("md.quote.X", quote(41))
    embedded.poll()
    assert got == [quote(41)]
    assert shmbus.decode("md.quote", shmbus.encode("md.quote", quote(5))) == quote(5)


def test_handler_view_is_zero_copy_and_released_after_the_handler(embedded):
    kept = {}

    def h(e):
        kept["event"], kept["view"], kept["copy"] = e, e.payload, e.copy()
        assert kept["view"].readonly and len(kept["view"]) == 88
        kept["bytes"] = bytes(e.payload)

    embedded.on("md.quote.*", h)
    embedded.publish("md.quote.X", quote(7))
    embedded.poll()
    with pytest.raises(ValueError):  # the memoryview was released
        kept["view"][0]
    with pytest.raises(shmbus.Error) as e:
        kept["event"].payload
    assert e.value.code == "state" and "copy()" in str(e.value)
    assert kept["event"].sequence == 1  # metadata stays readable
    assert bytes(kept["copy"].payload) == kept["bytes"]
    assert kept["copy"].decode() == quote(7)


def test_views_kept_past_the_handler_read_their_own_event_after_the_ring_wraps(bus_name):
    """A NumPy array, a memoryview slice and an array over a memoryview, all kept past the
    handler: they go on reading the event they came from (a private copy made as the handler
    returned), not the slot that later events reuse. The kept memoryview itself is released."""
    bus = shmbus.create(bus_name + "-w", "py-w", wait="block", ring_capacity=512)
    kept, seen = [], []

    def h(e):
        if e.sequence == 1:
            kept.append(e.as_numpy())
            kept.append(np.frombuffer(e.payload, np.uint8))
            kept.append(e.payload[16:24])
            kept.append(e.payload)
        else:
            seen.append(int(e.as_numpy()["seq"][0]))  # views dropped in time: no copy made

    bus.on("md.quote.*", h)
    first = shmbus.encode("md.quote", quote(1))
    with pytest.warns(RuntimeWarning, match="md.quote.ESZ6 outlived its handler"):
        assert bus.publish("md.quote.ESZ6", quote(1))
        assert bus.poll() >= 1
    # Three laps of a 512-slot ring over the slot the kept views came from.
    for i in range(2, 2 + 3 * 512):
        assert bus.publish("md.quote.ESZ6", quote(i))
        if i % 16 == 0:
            bus.poll()
    while bus.poll():
        pass
    assert seen == list(range(2, 2 + 3 * 512))
    arr, raw, piece, view = kept
    assert int(arr["seq"][0]) == 1 and arr.tobytes() == first
    assert raw.tobytes() == first and bytes(piece) == first[16:24]
    with pytest.raises(ValueError):  # the memoryview handed out was released
        view[0]
    assert bus.views_frozen == 1
    del arr, raw, piece, kept[:]
    bus.close()


def test_numpy_dtype_batch_publish_and_as_numpy(embedded):
    dt = shmbus.dtype("md.quote")
    assert dt.itemsize == 88 and dt.names[:3] == ("symbol", "venue", "bid_price_e9")
    arr = np.zeros(500, dtype=dt)
    arr["seq"] = np.arange(500)
    arr["symbol"] = b"ESZ6"
    arr["ask_qty"] = -np.arange(500)
    got = []
    embedded.on("md.quote.*", lambda e: got.append(e.as_numpy()[0][["seq", "ask_qty"]].item()))
    assert embedded.publish_batch("md.quote.ESZ6", arr) == 500
    while embedded.poll():
        pass
    assert got == [(i, -i) for i in range(500)]
    # A memoryview of raw payloads is a batch too.
    assert embedded.publish_batch("md.quote.ESZ6", memoryview(arr.tobytes())) == 500


def test_wait_for_with_predicate_and_timeout(embedded):
    embedded.on("md.quote.*", lambda e: None)  # reading the ring from here on
    for i in range(5):
        embedded.publish("md.quote.ESZ6", quote(i))
    ev = embedded.wait_for("md.quote.*", 1.0, lambda e: e.decode()["seq"] == 3)
    assert ev.decode()["seq"] == 3 and ev.valid
    t0 = time.monotonic()
    with pytest.raises(shmbus.TimeoutError) as e:
        embedded.wait_for("nothing.here", 0.05)
    assert e.value.code == "timeout" and isinstance(e.value, TimeoutError)
    assert time.monotonic() - t0 < 2


def test_history_returns_owned_copies_in_order(embedded):
    for i in range(10):
        embedded.publish("md.quote.ESZ6", quote(i))
    h = embedded.history("md.quote.*", 4)
    assert [e.decode()["seq"] for e in h] == [6, 7, 8, 9]


def test_raising_handler_is_isolated_error_event_dead_letter_others_run(embedded):
    errors, others = [], []

    def bad(e):
        raise ValueError("bad quote " + str(e.sequence))

    embedded.on("md.quote.*", bad, name="py.bad")
    embedded.on("md.quote.*", lambda e: others.append(e.sequence))
    embedded.on("sys.error", lambda e: errors.append(e.decode()))
    embedded.publish("md.quote.ESZ6", quote(1))
    embedded.publish("md.quote.ESZ6", quote(2))
    for _ in range(5):
        embedded.poll()
    assert others == [1, 2]
    assert [x["handler"] for x in errors][:2] == ["py.bad", "py.bad"]
    line = bad.__code__.co_firstlineno + 1  # the raise
    where = f"@ test_api.py:{line} bad"
    assert errors[0]["message"] == f"ValueError: bad quote 1 {where}"
    letters = embedded.dead_letters()
    assert [d["reason"] for d in letters] == [f"ValueError: bad quote {i} {where}" for i in (1, 2)]
    assert letters[0]["payload"] == shmbus.encode("md.quote", quote(1))
    me = [a for a in embedded.stats()["agents"] if a["name"] == "py-main"][0]
    assert me["handler_failures"] == 2 and me["dead_lettered"] == 2


def test_handler_failure_reports_type_message_and_a_bounded_traceback(embedded, caplog):
    """sys.error (79 characters) keeps the exception type and innermost frame whatever the
    message's length; the traceback itself, bounded, is in last_handler_error and the log."""
    class QuoteRejected(Exception):
        pass

    def check(q):
        raise QuoteRejected("spread too wide: " + "x" * 200)

    def deep(n, e):
        return deep(n - 1, e) if n else check(e)

    errors = []
    embedded.on("md.quote.*", lambda e: deep(30, e), name="py.deep")
    # (Under load the failing handler may also run past its 1 ms budget: another sys.error.)
    embedded.on("sys.error", lambda e: errors.append(e.decode()["message"])
                if not e.decode()["message"].startswith("handler took") else None)
    assert embedded.last_handler_error is None
    with caplog.at_level("ERROR", logger="shmbus"):
        embedded.publish("md.quote.ESZ6", quote(1))
        for _ in range(3):
            embedded.poll()
    kind = "test_api.test_handler_failure_reports_type_message_and_a_bounded_traceback." \
           "<locals>.QuoteRejected"
    where = f" @ test_api.py:{check.__code__.co_firstlineno + 1} check"
    assert len(errors) == 1 and len(errors[0]) <= 79
    assert errors[0].startswith(kind[:40]) and errors[0].endswith("..." + where), errors[0]
    err = embedded.last_handler_error
    assert err["type"] == kind and err["message"] == "spread too wide: " + "x" * 200
    assert err["handler"] == "py.deep" and err["topic"] == "md.quote.ESZ6"
    assert err["sequence"] == 1 and err["reported"] == errors[0]
    assert err["where"] == where[3:]
    tb = err["traceback"]
    # The innermost 8 of 33 frames: 7 of deep (3 shown, then Python's "repeated" line), check.
    assert len(tb) <= 4096 and tb.count(", in deep\n") == 3 and tb.count(", in check\n") == 1
    assert "[Previous line repeated 4 more times]" in tb
    assert 'raise QuoteRejected("spread too wide: "' in tb and tb.rstrip().endswith("x" * 200)
    logged = [r.getMessage() for r in caplog.records if r.name == "shmbus"]
    assert len(logged) == 1 and "py.deep" in logged[0] and tb in logged[0]


def test_keyboard_interrupt_in_a_handler_stops_dispatch_and_is_raised(embedded):
    def h(e):
        raise KeyboardInterrupt

    embedded.on("md.quote.*", h)
    embedded.publish("md.quote.ESZ6", quote(1))
    with pytest.raises(KeyboardInterrupt):
        embedded.run_for(5.0)


def test_bad_input_raises_clear_errors(embedded, bus_name):
    with pytest.raises(shmbus.Error) as e:
        shmbus.attach(bus_name + "-missing", "x")
    assert e.value.code == "not_found" and "does not exist" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        shmbus.attach("bad name!", "x")
    assert e.value.code == "invalid_argument"
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("md.quote.ESZ6", b"\0" * 87)
    assert e.value.code == "invalid_argument" and "87 bytes" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("md.quote.ESZ6", {"bid_prise_e9": 1})
    assert "unknown field 'bid_prise_e9'" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("md.quote.ESZ6", {"bid_orders": -1})
    assert "out of range" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("order.new", {"client_order_id": 1, "qty": 5, "side": 99})
    assert "enum of 0..2, not 99" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("md.quote.ESZ6", {"symbol": "X" * 40})
    assert "longer than" in str(e.value)
    with pytest.raises(shmbus.Error) as e:
        embedded.publish("user.raw", b"\0" * 10_000)
    assert e.value.code == "too_large"
    with pytest.raises(TypeError, match="callable"):
        embedded.on("md.*", 42)
    with pytest.raises(TypeError, match="payload"):
        embedded.publish("user.raw", 3.5)
    with pytest.raises(shmbus.Error) as e:
        embedded.on("md.**", lambda e: None)
    assert e.value.code == "invalid_argument"
    # Nothing was lost by the refused calls: the next good publish is the first event.
    got = []
    embedded.on("md.quote.*", lambda e: got.append(e.sequence))
    embedded.publish("md.quote.ESZ6", quote(1))
    embedded.poll()
    assert got == [1]
    embedded.close()
    for call in (lambda: embedded.publish("md.quote.ESZ6", quote(1)),
                 lambda: embedded.on("x", print), lambda: embedded.poll()):
        with pytest.raises(shmbus.Error) as e:
            call()
        assert e.value.code == "state" and "closed" in str(e.value)


def _thread_runs_during(call, seconds):
    """True when a counting thread took a step while `call` (which returns after `seconds`) was
    in the middle of its wait. The GIL is handed over every 5 ms at most (the switch interval)
    and only between bytecodes: a call that holds it lets the thread in, if at all, at its
    edges. So what counts is a step at least a margin inside the call, measured by the clock,
    not how many steps a loaded machine's scheduler gave the thread (that made an earlier,
    ratio-based version of this test fail under load)."""
    steps, stop = [], threading.Event()

    def count():
        last = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - last >= 0.001:  # a step a millisecond at most: a short list
                steps.append(now)
                last = now

    t = threading.Thread(target=count)
    t.start()
    try:
        while not steps:  # the thread is running before the call starts
            time.sleep(0.001)
        t0 = time.monotonic()
        call()
        t1 = time.monotonic()
    finally:
        stop.set()
        t.join()
    assert t1 - t0 >= seconds * 0.9, (t1 - t0, seconds)
    margin = min(0.1, seconds / 4)
    return any(t0 + margin <= s <= t1 - margin for s in steps)


def test_gil_is_released_while_the_dispatcher_waits(embedded):
    """A Python thread runs while the main thread waits in the dispatcher (wait_for, poll_wait,
    run_for), and the measure can tell: a call that holds the GIL for as long shows none."""
    import ctypes

    def wait_for():
        with pytest.raises(shmbus.TimeoutError):
            embedded.wait_for("never.published", 0.5)

    assert _thread_runs_during(wait_for, 0.5), "GIL held while wait_for waits"
    assert _thread_runs_during(lambda: embedded.poll_wait(1, 0.5), 0.5), \
        "GIL held while poll_wait waits"
    assert _thread_runs_during(lambda: embedded.run_for(0.5), 0.5), "GIL held while run_for waits"
    # The control: usleep through ctypes.PyDLL keeps the GIL for the whole 0.5 s.
    assert not _thread_runs_during(lambda: ctypes.PyDLL(None).usleep(500_000), 0.5)


def test_a_publish_waiting_on_a_full_ring_lets_other_python_threads_drain_it(bus_name):
    """publish keeps the GIL while the ring has room and gives it up to wait on a full one:
    the subscriber here is a thread of this process, whose handler needs the GIL."""
    pub = shmbus.create(bus_name + "-f", "py-pub", ring_capacity=512, wait="block")
    sub = shmbus.attach(bus_name + "-f", "py-sub", wait="block")
    got = []
    sub.on("user.full", lambda e: got.append(int.from_bytes(e.bytes(), "little")))
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            sub.poll_wait(1 << 20, 0.05)

    t = threading.Thread(target=drain)
    t.start()
    try:
        t0 = time.monotonic()
        statuses = [pub.publish("user.full", i.to_bytes(8, "little")) for i in range(4 * 512)]
        batch = np.arange(4 * 512, 8 * 512, dtype="<u8")
        sent = pub.publish_batch("user.full", batch, item_size=8)
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 10
        while len(got) < 8 * 512 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    assert all(statuses) and sent == 4 * 512, set(map(str, statuses))
    assert got == list(range(8 * 512))
    assert elapsed < 5, elapsed  # a GIL held while waiting would time out (1 s) per publish
    sub.close()
    pub.close()


def test_asyncio_next_event_and_async_iterator(embedded, bus_name):
    producer = shmbus.attach(bus_name, "py-producer")

    async def main():
        async def publish_later(first, last):
            await asyncio.sleep(0.05)
            for i in range(first, last):
                producer.publish("md.quote.A", quote(i))

        # next_event subscribes for its own wait; the iterator for as long as it runs.
        task = asyncio.create_task(publish_later(0, 1))
        first = await embedded.next_event("md.quote.*", timeout=5)
        await task

        async def collect():
            seqs = []
            async for ev in shmbus.events(embedded, "md.quote.*"):
                seqs.append(ev.decode()["seq"])
                if len(seqs) == 4:
                    return seqs

        collector = asyncio.create_task(collect())
        await publish_later(1, 5)
        return first.decode()["seq"], await collector

    first, rest = asyncio.run(asyncio.wait_for(main(), 20))
    assert (first, rest) == (0, [1, 2, 3, 4])
    producer.close()


def _pump_threads():
    return [t for t in threading.enumerate() if t.name == "shmbus-asyncio"]


async def _until(cond, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def test_asyncio_wakes_at_the_event_not_at_a_polling_period(bus_name):
    """The pump sleeps on the bus's futex (wait="block") and the loop sleeps in select: a
    publish wakes both. Latency is measured from the publish timestamp (CLOCK_MONOTONIC)."""
    bus = shmbus.create(bus_name + "-l", "py-async", wait="block")
    producer = shmbus.attach(bus_name + "-l", "py-prod")

    for t in ("user.ping", "user.tick"):
        producer.register_topic(t)

    def subscribers(topic):
        return [t["subscribers"] for t in shmbus.read_stats(bus.bus_name)["topics"]
                if t["name"] == topic][0]

    async def main():
        lat_next, lat_iter = [], []
        for i in range(15):
            waiting = asyncio.ensure_future(bus.next_event("user.ping", timeout=5))
            await _until(lambda: subscribers("user.ping") == 1, "the next_event subscription")
            await asyncio.sleep(0.005)  # the pump is asleep in the dispatcher by now
            producer.publish("user.ping", i.to_bytes(8, "little"))
            ev = await waiting
            lat_next.append(time.monotonic_ns() - ev.timestamp_ns)
            assert int.from_bytes(ev.bytes(), "little") == i
        it = bus.events("user.tick")
        for i in range(15):
            nxt = asyncio.ensure_future(it.__anext__())
            await _until(lambda: subscribers("user.tick") == 1, "the events() subscription")
            await asyncio.sleep(0.005)
            producer.publish("user.tick", i.to_bytes(8, "little"))
            ev = await asyncio.wait_for(nxt, 5)
            lat_iter.append(time.monotonic_ns() - ev.timestamp_ns)
            assert int.from_bytes(ev.bytes(), "little") == i
        await it.aclose()
        return sorted(lat_next), sorted(lat_iter)

    lat_next, lat_iter = asyncio.run(asyncio.wait_for(main(), 60))
    print(f"asyncio wake-up p50: next_event {lat_next[7] / 1e3:.0f} us, "
          f"events() {lat_iter[7] / 1e3:.0f} us")
    # Generous for a loaded 2-core machine; a 50 ms polling slice would put the median near 25.
    assert lat_next[7] < 10e6 and lat_iter[7] < 10e6, (lat_next, lat_iter)
    producer.close()
    bus.close()


def test_asyncio_cancellation_removes_the_wait_and_frees_the_bus(bus_name):
    bus = shmbus.create(bus_name + "-c", "py-async", wait="block")

    async def main():
        t0 = time.monotonic()
        with pytest.raises(shmbus.TimeoutError) as e:
            await bus.next_event("never.published", timeout=0.05)
        assert e.value.code == "timeout" and time.monotonic() - t0 < 2
        waiting = asyncio.ensure_future(bus.next_event("never.published"))  # no timeout
        got = []

        async def consume():
            async for ev in bus.events("user.c"):
                got.append(ev.bytes())

        consumer = asyncio.ensure_future(consume())
        # Events before the subscription are not the iterator's: the pump, already running for
        # `waiting`, may dispatch them first.
        bus.register_topic("user.c")
        await _until(lambda: [t["subscribers"] for t in shmbus.read_stats(bus.bus_name)[
            "topics"] if t["name"] == "user.c"] == [1], "the events() subscription")
        for i in range(3):
            bus.publish("user.c", bytes([i]))
        await _until(lambda: len(got) == 3, "the iterator to get 3 events")
        assert _pump_threads()
        waiting.cancel()
        consumer.cancel()
        for t in (waiting, consumer):
            with pytest.raises(asyncio.CancelledError):
                await t
        # Both subscriptions go, the pump thread ends, and this thread may dispatch again.
        await _until(lambda: not _pump_threads(), "the asyncio pump thread to end")
        bus.publish("user.c", b"z")
        assert bus.poll() >= 1 and got == [b"\0", b"\1", b"\2"]
        # And a later await starts the pump again.
        asyncio.get_running_loop().call_later(0.01, bus.publish, "user.c", b"again")
        assert (await bus.next_event("user.c", timeout=5)).bytes() == b"again"

    asyncio.run(asyncio.wait_for(main(), 30))
    # The pump ends by itself once its last waiter is gone; until then it is the dispatcher.
    asyncio.run(_until(lambda: not _pump_threads(), "the asyncio pump thread to end"))
    # No stop the pump used to wake itself is left over to cut a later wait short.
    t0 = time.monotonic()
    with pytest.raises(shmbus.TimeoutError):
        bus.wait_for("never.published", 0.2)
    assert time.monotonic() - t0 >= 0.19
    bus.close()  # not busy: nothing dispatches any more


def test_barrier_round_between_python_agents(embedded, bus_name):
    a = shmbus.attach(bus_name, "py-a")
    b = shmbus.attach(bus_name, "py-b")
    embedded.create_barrier("vote", ["py-a", "py-b"], 5.0)
    waiter = embedded.barrier("vote")
    waiter.become_waiter()
    ha, hb = a.barrier("vote"), b.barrier("vote")
    assert ha.is_participant and ha.arrive(b"A" * 8) == "accepted"
    assert hb.arrive(b"B" * 8) == "accepted"
    r = waiter.wait(5.0)
    assert r["complete"] and [s["signal"] for s in r["signals"]] == [b"A" * 8, b"B" * 8]
    assert ha.arrive(b"late", r["generation"]) == "late"
    assert embedded.list_barriers()[0]["completed"] == 1
    a.close()
    with pytest.raises(shmbus.Error) as e:
        ha.arrive(b"x")
    assert e.value.code == "state"
    b.close()


def test_publish_takes_keywords_and_rejects_bad_arguments(embedded):
    got = []
    embedded.on("user.kw", lambda e: got.append((e.priority, e.bytes())))
    assert embedded.publish(topic="user.kw", payload=b"ab", priority=shmbus.Priority.HIGH)
    embedded.poll()
    assert got == [(shmbus.Priority.HIGH, b"ab")]
    with pytest.raises(TypeError, match="missing"):
        embedded.publish("user.kw")
    with pytest.raises(TypeError, match="Priority"):
        embedded.publish("user.kw", b"x", "high")
    with pytest.raises(TypeError, match="unexpected"):
        embedded.publish("user.kw", b"x", prio=1)


def test_a_copied_events_view_keeps_the_copy_alive(embedded):
    copies = []
    embedded.on("md.quote.*", lambda e: copies.append(e.copy()))
    embedded.publish("md.quote.ESZ6", quote(9))
    embedded.poll()
    view = copies.pop().payload  # the only reference to the copy is now its view
    import gc
    gc.collect()
    assert isinstance(view.obj, shmbus.Event)  # the view holds its exporter, the copy
    assert view.readonly and shmbus.decode("md.quote", view) == quote(9)
    arr = embedded.history("md.quote.*", 1)[0].as_numpy()  # a temporary Event's NumPy view
    gc.collect()
    assert int(arr["seq"][0]) == 9


def test_a_handler_raising_n_times_in_a_row_is_unsubscribed(bus_name):
    bus = shmbus.create(bus_name + "-n", "py-n", max_handler_failures=3)
    calls, errors = [], []

    def bad(e):
        calls.append(e.sequence)
        raise RuntimeError("always")

    bus.on("user.n", bad, name="py.always")
    bus.on("sys.error", lambda e: errors.append(e.decode()["kind"]))
    for _ in range(6):
        bus.publish("user.n", b"x")
    for _ in range(5):
        bus.poll()
    assert calls == [1, 2, 3]  # removed after the third failure in a row
    me = [a for a in bus.stats()["agents"] if a["name"] == "py-n"][0]
    assert me["handler_failures"] == 3 and me["handlers_unsubscribed"] == 1
    assert len(errors) >= 4  # three failures and the unsubscribe notice
    bus.close()
