"""shmbus: Python agents on a shared-memory event bus.

A binding over the C++ library (the extension ``shmbus._shmbus``), not a second
implementation: publishing, dispatching, isolation and barriers run in C++; only your
handlers run in Python. The dispatcher releases the GIL whenever it waits.

    import shmbus
    bus = shmbus.attach("demo", agent_name="py-strategy")
    bus.on("md.quote.*", lambda ev: print(ev.decode()["bid_price_e9"]))
    bus.publish("md.quote.ESZ6", {"symbol": "ESZ6", "bid_price_e9": 5_000 * 10**9})
    bus.run_for(1.0)
"""

from __future__ import annotations

import asyncio
import collections
import threading
import weakref
from typing import AsyncIterator, Callable, Optional

from ._shmbus import (  # noqa: F401  (re-exported API)
    Barrier,
    Bus,
    DurableSubscriber,
    Error,
    Event,
    JournalReader,
    Priority,
    PublishStatus,
    TimeoutError,
    _state_error,
    _timeout_error,
    attach,
    catalog,
    create,
    decode,
    dtype,
    encode,
    inspect,
    list_dead_letters,
    read_stats,
    recorder_stats,
    remove,
)
from .journal import iter_journal_frames, read_journal  # noqa: F401

__all__ = [
    "Barrier", "Bus", "Error", "Event", "Priority", "PublishStatus", "TimeoutError", "attach",
    "catalog", "create", "decode", "dtype", "encode", "inspect", "list_dead_letters",
    "read_stats", "remove", "next_event", "events", "JournalReader", "read_journal",
    "iter_journal_frames", "recorder_stats", "DurableSubscriber",
]

class _Pump:
    """Dispatches one bus on a thread of its own while asyncio waiters need it.

    Dispatching (on/off/run) belongs to one thread at a time, so every subscription of the
    asyncio helpers is made and removed on the pump thread, as a command. The pump waits in
    Bus.run with the GIL released and the agent's wait strategy (a futex for wait="block"),
    so an event wakes it as it would any C++ subscriber: no polling slices. A command wakes
    it with Bus.stop (from the loop's thread; never on the publish path). A handler hands its
    result to the event loop with loop.call_soon_threadsafe. The thread ends when the last
    waiter is gone and is started again by the next one.
    """

    def __init__(self, bus: Bus):
        self._bus = weakref.ref(bus)
        self._lock = threading.Lock()
        self._commands: list = []
        self._thread: Optional[threading.Thread] = None
        self._in_run = False
        self._closing = False
        self.active = 0  # subscriptions made through the pump (pump thread only)

    def submit(self, command: Callable[[Bus], None]) -> None:
        with self._lock:
            if self._thread is None:
                # Nothing dispatches through the pump: run the command here and now, so an
                # await's subscription exists before the call returns (an event published
                # right after next_event() is called is seen), then start the pump if needed.
                bus = self._bus()
                command(bus if bus is not None and not bus.closed and not self._closing
                        else None)
                if self.active > 0:
                    self._thread = threading.Thread(target=self._main, name="shmbus-asyncio",
                                                    daemon=True)
                    self._thread.start()
                return
            self._commands.append(command)
            if self._in_run:
                # Under the lock: a stop that run() does not consume is consumed by _main
                # before it leaves (also under the lock), so none is left for the next run.
                bus = self._bus()
                if bus is not None and not bus.closed:
                    bus._wake()

    def _main(self) -> None:
        while True:
            bus = self._bus()
            with self._lock:
                commands, self._commands = self._commands, []
                closing = self._closing or bus is None or bus.closed
                if closing or (not commands and self.active == 0):
                    self._thread = None
                    if closing:
                        self._fail_all(_closed_error())
                        for c in commands:  # unsubscribes; subscribes are refused
                            c(bus if bus is not None and not bus.closed else None)
                    if bus is not None and not bus.closed:
                        bus.poll_wait(0, 0.0)  # takes a pending stop, dispatches nothing
                    return
                self._in_run = not commands
            if commands:
                for c in commands:
                    c(bus)
                continue
            try:
                bus._run_until_woken()
            except BaseException as e:  # noqa: BLE001  a handler's KeyboardInterrupt/SystemExit
                self._fail_all(e)
            finally:
                with self._lock:
                    self._in_run = False
            del bus

    def shutdown(self) -> None:
        """Bus.close: ends the pump (its waiters raise shmbus.Error) and joins its thread."""
        with self._lock:
            t = self._thread
            self._closing = True
            if t is not None and self._in_run:
                self._bus()._wake()
        if t is not None and t is not threading.current_thread():
            t.join(10)
        with self._lock:
            self._closing = False

    def _fail_all(self, exc: BaseException) -> None:
        for waiter in list(_Waiter.live.get(self, ())):
            waiter.fail(exc)


class _Waiter:
    """One asyncio waiter's subscription (pump thread side)."""

    live: "weakref.WeakKeyDictionary[_Pump, set]" = weakref.WeakKeyDictionary()

    def __init__(self, pump: _Pump, loop: asyncio.AbstractEventLoop):
        self.pump, self.loop, self.sub, self.done = pump, loop, None, False
        _Waiter.live.setdefault(pump, set()).add(self)

    def subscribe(self, bus: Optional[Bus], pattern: str, handler, name: str) -> None:
        if self.done:
            return
        if bus is None:
            self.fail(_closed_error())
            return
        try:
            self.sub = bus.on(pattern, handler, name=name)
            self.pump.active += 1
        except BaseException as e:  # noqa: BLE001  a bad pattern: the awaiting side raises it
            self.fail(e)

    def unsubscribe(self, bus: Optional[Bus]) -> None:  # the dispatching thread
        self.done = True
        _Waiter.live.get(self.pump, set()).discard(self)
        if self.sub is not None:
            self.pump.active -= 1
            sub, self.sub = self.sub, None
            if bus is not None and not bus.closed:
                bus.off(sub)
                if self.pump.active == 0 and threading.current_thread() is self.pump._thread:
                    bus._wake()  # from a handler: run() returns and the idle pump ends

    def fail(self, exc: BaseException) -> None:  # overridden by the waiters
        pass


def _closed_error() -> BaseException:
    return _state_error("bus is closed")


def _resolve(fut: asyncio.Future, value, ok: bool) -> None:
    if not fut.done():
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


_pumps: "weakref.WeakKeyDictionary[Bus, _Pump]" = weakref.WeakKeyDictionary()


def _pump(bus: Bus) -> _Pump:
    p = _pumps.get(bus)
    if p is None:
        p = _pumps[bus] = _Pump(bus)
    return p


class _NextEvent(_Waiter):
    def __init__(self, pump, loop, predicate):
        super().__init__(pump, loop)
        self.fut = loop.create_future()
        self.predicate = predicate
        self.resolved = False

    def handle(self, ev: Event) -> None:  # pump thread, GIL held
        if self.done or self.resolved:
            return
        try:
            if self.predicate is not None and not self.predicate(ev):
                return
            value, ok = ev.copy(), True
        except BaseException as e:  # noqa: BLE001  a predicate that raises ends the wait
            value, ok = e, False
        self.resolved = True
        self.unsubscribe(self.pump._bus())
        self.loop.call_soon_threadsafe(_resolve, self.fut, value, ok)

    def fail(self, exc):  # the awaiting side then unsubscribes
        self.resolved = True
        self.loop.call_soon_threadsafe(_resolve, self.fut, exc, False)


async def next_event(bus: Bus, pattern: str = "*", timeout: Optional[float] = None,
                     predicate: Optional[Callable[[Event], bool]] = None) -> Event:
    """Awaits the next event matching ``pattern`` (and ``predicate``) and returns a copy.

    A one-shot subscription on the bus's asyncio pump thread, which dispatches with the GIL
    released and wakes the event loop (call_soon_threadsafe) as the event is handled: the
    latency is the dispatcher's, not a polling period. Raises shmbus.TimeoutError after
    ``timeout`` seconds; cancelling the await removes the subscription at once. While
    awaits are pending the pump thread dispatches this bus: do not poll it elsewhere.
    """
    loop = asyncio.get_running_loop()
    pump = _pump(bus)
    w = _NextEvent(pump, loop, predicate)
    pump.submit(lambda b: w.subscribe(b, pattern, w.handle, "asyncio.next_event:" + pattern))
    try:
        if timeout is None:
            return await w.fut
        try:
            return await asyncio.wait_for(w.fut, timeout)
        except asyncio.TimeoutError:
            raise _timeout_error(f"next_event: no event on '{pattern}' within {timeout} s"
                                 ) from None
    finally:
        if not w.done:
            pump.submit(w.unsubscribe)


class _Stream(_Waiter):
    def __init__(self, pump, loop):
        super().__init__(pump, loop)
        self.queue: collections.deque = collections.deque()
        self.wakeup: Optional[asyncio.Future] = None
        self.error: Optional[BaseException] = None

    def handle(self, ev: Event) -> None:  # pump thread, GIL held
        self.queue.append(ev.copy())
        self._wake()

    def _wake(self):
        f, self.wakeup = self.wakeup, None  # one loop wake-up per sleep of the consumer
        if f is not None:
            self.loop.call_soon_threadsafe(_resolve, f, None, True)

    def fail(self, exc):
        self.error = exc
        self._wake()


async def events(bus: Bus, pattern: str = "*", poll_timeout: Optional[float] = None
                 ) -> AsyncIterator[Event]:
    """Async iterator over every event matching ``pattern``, in order, as owned copies.

        async for ev in shmbus.events(bus, "md.quote.*"):
            ...

    A subscription on the bus's asyncio pump thread queues copies and wakes the event loop
    only when the iterator is waiting (one call_soon_threadsafe per wait, not per event).
    The subscription is removed when the iterator is closed or its task cancelled.
    ``poll_timeout`` is accepted for compatibility and unused (nothing polls).
    """
    del poll_timeout
    loop = asyncio.get_running_loop()
    pump = _pump(bus)
    w = _Stream(pump, loop)
    pump.submit(lambda b: w.subscribe(b, pattern, w.handle, "asyncio.events:" + pattern))
    try:
        while True:
            while w.queue:
                yield w.queue.popleft()
            if w.error is not None:
                raise w.error
            w.wakeup = loop.create_future()
            if w.queue or w.error is not None:  # arrived between the check and the future
                w.wakeup = None
                continue
            await w.wakeup
    finally:
        w.wakeup = None
        pump.submit(w.unsubscribe)


def _bus_next_event(self: Bus, pattern: str = "*", timeout: Optional[float] = None,
                    predicate: Optional[Callable[[Event], bool]] = None):
    return next_event(self, pattern, timeout, predicate)


def _bus_events(self: Bus, pattern: str = "*", poll_timeout: Optional[float] = None):
    return events(self, pattern, poll_timeout)


def _bus_aiter(self: Bus):
    return events(self, "*")


_bus_close_cxx = Bus.close


def _bus_close(self: Bus) -> None:
    """Closes the agent (its record is freed). Ends the asyncio pump first, if any: pending
    next_event awaits and events() iterators raise shmbus.Error (state)."""
    p = _pumps.get(self)
    if p is not None:
        p.shutdown()
    _bus_close_cxx(self)


def _bus_exit(self: Bus, *exc) -> None:
    _bus_close(self)


Bus.close = _bus_close
Bus.__exit__ = _bus_exit
# The asyncio verbs as Bus methods too: `await bus.next_event(...)`, `async for ev in bus`.
Bus.next_event = _bus_next_event
Bus.events = _bus_events
Bus.__aiter__ = _bus_aiter
