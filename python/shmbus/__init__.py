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
import concurrent.futures
import weakref
from typing import AsyncIterator, Callable, Optional

from ._shmbus import (  # noqa: F401  (re-exported API)
    Barrier,
    Bus,
    Error,
    Event,
    JournalReader,
    Priority,
    PublishStatus,
    TimeoutError,
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
    "iter_journal_frames", "recorder_stats",
]

# Dispatching belongs to one thread at a time: each bus gets one executor thread for the
# asyncio helpers, so every await dispatches on the same thread, off the event loop.
_executors: "weakref.WeakKeyDictionary[Bus, concurrent.futures.ThreadPoolExecutor]" = (
    weakref.WeakKeyDictionary())


def _executor(bus: Bus) -> concurrent.futures.ThreadPoolExecutor:
    ex = _executors.get(bus)
    if ex is None:
        ex = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix="shmbus-dispatch")
        _executors[bus] = ex
    return ex


async def next_event(bus: Bus, pattern: str = "*", timeout: Optional[float] = None,
                     predicate: Optional[Callable[[Event], bool]] = None) -> Event:
    """Awaits the next event matching ``pattern`` (and ``predicate``) and returns a copy.

    The wait runs Bus.wait_for on the bus's dispatch thread with the GIL released, so the
    event loop keeps running. Raises shmbus.TimeoutError after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(bus), bus.wait_for, pattern, timeout, predicate)


async def events(bus: Bus, pattern: str = "*", poll_timeout: float = 0.05
                 ) -> AsyncIterator[Event]:
    """Async iterator over every event matching ``pattern``, in order, as owned copies.

        async for ev in shmbus.events(bus, "md.quote.*"):
            ...

    A subscription queues copies; each step dispatches on the bus's dispatch thread (GIL
    released while it waits) until the queue has something. The subscription is removed
    when the iterator is closed.
    """
    queue: collections.deque = collections.deque()
    sub = bus.on(pattern, lambda ev: queue.append(ev.copy()), name="asyncio:" + pattern)
    loop = asyncio.get_running_loop()
    ex = _executor(bus)
    try:
        while True:
            while not queue:
                await loop.run_in_executor(ex, bus.poll_wait, 1 << 20, poll_timeout)
            yield queue.popleft()
    finally:
        if not bus.closed:
            bus.off(sub)


def _bus_next_event(self: Bus, pattern: str = "*", timeout: Optional[float] = None,
                    predicate: Optional[Callable[[Event], bool]] = None):
    return next_event(self, pattern, timeout, predicate)


def _bus_events(self: Bus, pattern: str = "*", poll_timeout: float = 0.05):
    return events(self, pattern, poll_timeout)


def _bus_aiter(self: Bus):
    return events(self, "*")


# The asyncio verbs as Bus methods too: `await bus.next_event(...)`, `async for ev in bus`.
Bus.next_event = _bus_next_event
Bus.events = _bus_events
Bus.__aiter__ = _bus_aiter
