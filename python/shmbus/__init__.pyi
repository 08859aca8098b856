"""Type stubs of the shmbus Python module (the extension shmbus._shmbus re-exported by
shmbus/__init__.py, plus its asyncio helpers)."""

import builtins
import datetime
import enum
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy
import pandas

Buffer = Union[bytes, bytearray, memoryview, "numpy.ndarray[Any, Any]"]
TopicRef = Union[str, int]

class Error(Exception):
    """A shmbus call failed. `code` is the C++ Errc's name ("not_found", "invalid_argument",
    "state", "timeout", ...), `errc` its number; str(e) is the C++ message unchanged."""
    code: str
    errc: int

class TimeoutError(Error, builtins.TimeoutError):
    """A wait ran past its deadline (code "timeout"); also a builtins.TimeoutError."""

class Priority(enum.IntEnum):
    """Event priority; each has its own ring, drained CRITICAL first."""
    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3

class PublishStatus(enum.IntEnum):
    """Outcome of publish: truthy only for OK. FULL, TIMEOUT, SHED, RATE_LIMITED and ABORTED are
    back-pressure outcomes (nothing was published; try again or drop). Misuse (wrong size,
    unknown topic, closed bus, too large) raises shmbus.Error instead."""
    OK = 0
    FULL = 1
    TIMEOUT = 2
    SHED = 3
    RATE_LIMITED = 4
    TOO_LARGE = 5
    UNKNOWN_TOPIC = 6
    ABORTED = 7
    CLOSED = 8
    BAD_SIZE = 9
    def __bool__(self) -> bool: ...

class Event:
    """One event. In a handler the payload is a zero-copy read-only view into the ring, valid
    during the call only: afterwards the memoryviews handed out are released and `payload`
    raises shmbus.Error("state"). copy() (and events from wait_for, history) own their bytes.

    The Event exports its payload (buffer protocol: memoryview(ev), np.frombuffer(ev)). A
    view that outlives the handler (np.frombuffer(ev.payload), ev.as_numpy() or a memoryview
    slice kept in a list) never reads the recycled slot: as the handler returns it is frozen
    onto a private copy of that event (a RuntimeWarning says so; Bus.views_frozen counts
    them). Call copy() in the handler to keep an event on purpose."""
    topic: int
    topic_name: str
    priority: Priority
    flags: int
    schema_version: int
    producer: int
    producer_epoch: int
    sequence: int
    """Per-producer sequence: FIFO per producer."""
    timestamp_ns: int
    """CLOCK_MONOTONIC at publish (time.monotonic_ns() clock)."""
    position: int
    valid: bool
    @property
    def payload(self) -> memoryview:
        """Read-only memoryview of the payload (zero-copy in a handler)."""
    def bytes(self) -> bytes:
        """The payload copied into bytes."""
    def copy(self) -> "Event":
        """An Event owning a copy of the payload, usable after the handler."""
    def decode(self) -> Dict[str, Any]:
        """The payload as a dict through the topic's catalogue field list (text as str,
        integers as int, integer arrays as lists; reserved bytes left out)."""
    def as_numpy(self) -> "numpy.ndarray[Any, Any]":
        """The payload as a 1-element read-only structured array of shmbus.dtype(topic);
        zero-copy. Kept past the handler it reads a frozen copy of this event (see above)."""
    def __len__(self) -> int: ...

class Barrier:
    """A handle on one barrier, bound to the Bus that opened it (closed with it)."""
    name: str
    is_participant: bool
    is_waiter: bool
    round: int
    """The round arrive() targets."""
    def arrive(self, signal: Buffer, generation: Optional[int] = None) -> str:
        """Arrives with `signal` (at most the bus's barrier_signal_bytes). Returns "accepted",
        "late", "already_arrived", "not_open", "not_participant", "unknown_barrier" or
        "too_large"."""
    def wait_open(self, timeout: float = 1.0) -> int:
        """Waits until round is open; returns its generation. GIL released."""
    def become_waiter(self) -> None:
        """Registers this agent as the barrier's waiter (Error "busy" when a live one exists)."""
    def wait(self, timeout: float = 1.0) -> Dict[str, Any]:
        """Waiter: the next closed round ({generation, complete, participants, signals:[{
        participant, index, signal, arrive_mono_ns}], missing, dropped, skipped,
        closed_here}). GIL released. TimeoutError when no round closed in time."""
    def status(self) -> Dict[str, Any]: ...

Handler = Callable[[Event], Any]

class Bus:
    """One process's agent on a bus. Publish from any thread; dispatch (poll, run, wait_for,
    and the handlers they call) on one thread at a time. Every call that waits releases the
    GIL. A handler that raises is isolated like a C++ one: counted, a sys.error event, a dead
    letter, the other handlers keep running; after max_handler_failures in a row it is
    unsubscribed. KeyboardInterrupt/SystemExit in a handler stop dispatching and are raised.
    The sys.error event names the exception type, message and innermost frame; see
    last_handler_error for the traceback."""
    bus_name: str
    agent_name: str
    agent_index: int
    events_missed: int
    closed: bool
    views_frozen: int
    """Payload views handlers kept past their return, each frozen onto a private copy."""
    last_handler_error: Optional[Dict[str, Any]]
    """The last failure of a Python handler here, None before any: handler, topic, sequence,
    type (module-qualified outside builtins), message, where ("file.py:42 function", the
    innermost frame), traceback (the last 8 frames, at most 4096 characters) and reported
    (what sys.error and the dead letter carry: "Type: message @ file.py:42 function", cut to
    79 characters, the message first). The traceback is also logged to logging "shmbus"."""
    def publish(self, topic: TopicRef, payload: Union[Buffer, Dict[str, Any]],
                priority: Priority = Priority.NORMAL) -> PublishStatus:
        """Publishes one event. `payload`: bytes-like of the topic's size, or a dict of a
        catalogue topic's fields (missing fields are zero). Raises shmbus.Error for a wrong
        size, an unknown field, a value out of range, a too large payload or a closed bus.
        Keeps the GIL (no release per call) unless the ring is full: then it waits up to the
        agent's publish_timeout with the GIL released (TIMEOUT after it)."""
    def publish_batch(self, topic: TopicRef, items: Buffer, priority: Priority = Priority.NORMAL,
                      item_size: int = 0) -> int:
        """Publishes every fixed-size item of a contiguous buffer (a NumPy structured array of
        shmbus.dtype(topic), a memoryview), with the GIL kept while the ring has room and
        released to wait on a full one; stops at the first outcome other than OK and returns
        how many were published."""
    def topic(self, topic: TopicRef) -> int:
        """The id of a topic, registered on first use (catalogue names with their type)."""
    def register_topic(self, name: str, payload_size: int = 0, schema_version: int = 0) -> int:
        """Registers a user topic (payload_size 0 = variable-size bytes)."""
    def on(self, pattern: str, handler: Handler, name: str = "") -> int:
        """Calls handler(event) for every event matching pattern ("a.b", "a.*", "*").
        Returns the subscription id. TypeError when handler is not callable."""
    def once(self, pattern: str, handler: Handler, name: str = "") -> int: ...
    def on_any(self, handler: Handler, name: str = "") -> int: ...
    def off(self, subscription: int) -> None:
        """Removes a subscription (Error "not_found" when unknown)."""
    def on_health(self, handler: Callable[[Dict[str, Any]], Any]) -> int:
        """handler({agent, agent_index, bus_wide, old_state, new_state, text, ...}) for every
        sys.health change the supervisor publishes."""
    def on_backpressure(self, handler: Callable[[Priority, str], Any]) -> int:
        """handler(ring, level) for every sys.backpressure level change ("normal", "warning",
        "high", "critical")."""
    def on_gap(self, handler: Callable[[Priority, int], Any]) -> None: ...
    def wait_for(self, pattern: str, timeout: Optional[float] = None,
                 predicate: Optional[Callable[[Event], bool]] = None) -> Event:
        """Dispatches (other handlers keep running) until an event matching pattern and
        predicate arrives; returns a copy. TimeoutError after `timeout` s. GIL released."""
    def poll(self, max_events: int = 1 << 20) -> int:
        """Handles ready events without waiting; returns how many were consumed."""
    def poll_wait(self, max_events: int = 1 << 20, timeout: float = 0.1) -> int:
        """Like poll, waiting (agent's wait strategy, GIL released) up to timeout s."""
    def run_for(self, seconds: float) -> None: ...
    def run(self) -> None:
        """Dispatches until stop() (any thread) or Ctrl-C."""
    def stop(self) -> None: ...
    def history(self, pattern: str = "*", limit: int = 256) -> List[Event]:
        """The last events kept in the rings matching pattern, oldest first (copies)."""
    def stats(self) -> Dict[str, Any]:
        """Counters of every agent and topic (read_stats)."""
    def status(self) -> Dict[str, Any]:
        """The bus as `shmbus status` shows it: health, rings, agents, barriers."""
    def dead_letters(self) -> List[Dict[str, Any]]: ...
    def heartbeat(self) -> None: ...
    def close(self) -> None:
        """Detaches (idempotent). Later calls raise Error("state", "bus is closed"). Ends the
        asyncio pump first: pending next_event awaits and events() iterators raise
        Error("state")."""
    def create_barrier(self, name: str, participants: Sequence[str], timeout: float) -> None: ...
    def remove_barrier(self, name: str) -> None: ...
    def list_barriers(self) -> List[Dict[str, Any]]: ...
    def barrier(self, name: str) -> Barrier: ...
    async def next_event(self, pattern: str = "*", timeout: Optional[float] = None,
                         predicate: Optional[Callable[[Event], bool]] = None) -> Event:
        """shmbus.next_event(self, ...)."""
    def events(self, pattern: str = "*",
               poll_timeout: Optional[float] = None) -> AsyncIterator[Event]:
        """shmbus.events(self, ...)."""
    def __aiter__(self) -> AsyncIterator[Event]: ...
    def __enter__(self) -> "Bus": ...
    def __exit__(self, *args: Any) -> None: ...

def attach(bus_name: str, agent_name: str, wait: str = "spin_yield",
           start_from_history: bool = False, max_handler_failures: int = 5,
           handler_budget: float = 0.001, publish_timeout: float = 1.0) -> Bus:
    """Attaches to the live bus `bus_name` (run by shmbus-supervisor) as agent `agent_name`.
    wait: "busy_spin" (lowest latency, burns a core), "spin_yield" or "block" (futex).
    Errors: not_found (no such bus), already_exists (live agent of that name),
    invalid_argument (bad name), version_mismatch, corrupt, capacity_exceeded."""
def create(bus_name: str, agent_name: str, wait: str = "spin_yield", ring_capacity: int = 0,
           max_payload_bytes: int = 192, max_handler_failures: int = 5) -> Bus:
    """Embedded mode (tests, quick starts): creates the segment and attaches; the segment is
    removed when this Bus closes."""
def remove(bus_name: str, force: bool = False) -> None: ...
def inspect(bus_name: str) -> Dict[str, Any]:
    """The bus's state read from the segment without attaching (health, rings, agents)."""
def read_stats(bus_name: str) -> Dict[str, Any]: ...
def list_dead_letters(bus_name: str) -> List[Dict[str, Any]]: ...
def catalog() -> List[Dict[str, Any]]:
    """Every catalogue type: topic, payload_size, schema_version, group, description, fields."""
def dtype(topic: str) -> "numpy.dtype[Any]":
    """The NumPy structured dtype of a catalogue topic, from the C++ field list (same names,
    offsets and itemsize as the C++ struct)."""
def encode(topic: str, fields: Dict[str, Any]) -> bytes: ...
def decode(topic: str, payload: Buffer) -> Dict[str, Any]: ...
async def next_event(bus: Bus, pattern: str = "*", timeout: Optional[float] = None,
                     predicate: Optional[Callable[[Event], bool]] = None) -> Event:
    """Awaits the next matching event (a copy). A one-shot subscription on the bus's asyncio
    pump thread, which waits in the dispatcher with the GIL released (a futex for
    wait="block") and wakes the event loop with call_soon_threadsafe when the event is
    handled: no polling period. TimeoutError after `timeout` s; cancelling the await removes
    the subscription. While awaits are pending the pump dispatches this bus: do not poll it
    from another thread meanwhile (the pump thread, "shmbus-asyncio", ends by itself within
    moments of the last waiter; Bus.close waits for it). A predicate that raises ends the wait
    with its exception."""
def events(bus: Bus, pattern: str = "*",
           poll_timeout: Optional[float] = None) -> AsyncIterator[Event]:
    """Async iterator over matching events (copies), in order, through the same pump; the
    loop is woken once per wait, not per event. Closing the iterator or cancelling its task
    removes the subscription. poll_timeout is accepted for compatibility and unused."""

# Recorded sessions (`shmbus record --bus B --out DIR`), for research.

TimeLike = Union[int, str, datetime.datetime, "numpy.datetime64", "pandas.Timestamp", None]
Patterns = Union[str, Sequence[str], None]

class JournalReader:
    """Reads a journal directory in order, one file mapped at a time: memory stays flat
    whatever the journal's size. Iterating yields one dict per record: event_id, journal_ns,
    publish_ns, topic, priority (name), producer, producer_epoch, producer_seq, flags,
    schema_version, payload (bytes) and fields (the catalogue decode, or None).
    Raises shmbus.Error: not_found (no dir or no journal in it), version_mismatch (another
    journal format), corrupt, invalid_argument (a bad pattern)."""
    def __init__(self, dir: str, topics: Patterns = None, start_ns: Optional[int] = None,
                 end_ns: Optional[int] = None) -> None:
        """topics: None (all), a pattern ("md.quote.*", "*", a name) or a list of them;
        [start_ns, end_ns): journal time window, ns since the epoch (UTC)."""
    def __iter__(self) -> "JournalReader": ...
    def __next__(self) -> Dict[str, Any]: ...
    def read_batch(self, max_records: int = 65536) -> Optional[Dict[str, Any]]:
        """Up to max_records records as columns (NumPy arrays event_id, journal_ns,
        publish_ns, priority, producer, producer_epoch, producer_seq, flags, schema_version,
        topic_code, payload_offset, payload_size; lists topic_names, priority_names; bytes
        payload_blob), read with the GIL released; None at the end."""
    def files(self) -> List[Dict[str, Any]]:
        """The journal's files: path, file_index, file_bytes, first_event_id, created_ns,
        has_index."""

def read_journal(dir: str, topics: Patterns = None, start: TimeLike = None,
                 end: TimeLike = None) -> pandas.DataFrame:
    """A recorded session as a DataFrame, one row per event in journal order. Columns:
    event_id, journal_ns, journal_time (the recorder's CLOCK_REALTIME, as a UTC datetime),
    publish_ns, publish_mono (the bus timestamp: CLOCK_MONOTONIC of the publishing host, as a
    Timedelta since its boot, not a date), topic, priority, producer, producer_epoch,
    producer_seq, flags, schema_version; then one column per catalogue payload field (text as
    str, enums as int; a field named like a column above gets the prefix payload_; nullable
    integers when several topics share the frame) and a `payload` bytes column for other
    topics. A batch of one
    catalogue type is decoded column-wise (numpy.frombuffer with shmbus.dtype). start/end:
    journal time window [start, end), ns or anything pandas.Timestamp takes (naive = UTC).
    Raises shmbus.Error as JournalReader does."""
def iter_journal_frames(dir: str, topics: Patterns = None, start: TimeLike = None,
                        end: TimeLike = None, batch_size: int = 65536
                        ) -> Iterator[pandas.DataFrame]:
    """read_journal in DataFrames of at most batch_size rows: bounded memory."""
class DurableSubscriber:
    """A named reader of a journal whose checkpoint (with the handler's own state) is stored
    durably: after a crash it resumes after its checkpoint, and deliveries it may already have
    handled are flagged redelivered. One live instance per name (a second: Error "busy").

    Journal-follow mode (bus empty): reads the journal files as the journal agent appends
    them; checkpoint with store_checkpoint(event_id, state). Live mode (bus set): attaches
    to the bus as agent `name` (tethered), replays the journal from the checkpoint up to the
    rings' tails, then delivers from the rings with no gap or duplicate at the seam;
    checkpoint with checkpoint_handed_out(state). Errors of opening: not_found (no journal),
    busy, corrupt (a damaged checkpoint file), invalid_argument (name), timeout (the journal
    agent did not reach the seam within seam_timeout)."""
    checkpoint: int
    """Last journal event id handled, as loaded at open or stored since."""
    state: bytes
    """The state stored with that checkpoint."""
    redelivery_limit: int
    """Highest event id handed out before this open (up to it: flagged redelivered)."""
    replayed: int
    delivered_live: int
    gaps: int
    """Live mode: ring positions it could not deliver (0 is the promise)."""
    seam: List[int]
    """Live mode: per ring, the first position delivered live."""
    closed: bool
    def __init__(self, journal_dir: str, name: str, *, state_dir: str = "", bus: str = "",
                 journal_agent: str = "journal", topics: Patterns = None,
                 priorities: Optional[Sequence[Priority]] = None,
                 seam_timeout: float = 10.0) -> None:
        """name: 1..64 of [A-Za-z0-9_.-] (at most 31 in live mode); state_dir: checkpoint
        files (default <journal_dir>/subscribers); topics, priorities: live mode's, as the
        journal agent records them (default all). Opening waits without the GIL."""
    def poll(self, handler: Callable[[Dict[str, Any]], Any], max_events: int = 1024,
             timeout: float = 0.0) -> int:
        """Hands up to max_events deliveries to handler, waiting up to timeout s (GIL
        released) for the first; returns how many. A delivery is a JournalReader record dict
        plus redelivered (bool), live (bool: from the ring; then event_id and journal_ns are
        0) and ring_position. A handler that raises ends the poll with its exception; that
        event was handed out (a checkpoint after it counts it as handled)."""
    def store_checkpoint(self, event_id: int, state: bytes = b"") -> None:
        """Follow mode: every event up to event_id is handled, with `state` (<= 1 MiB),
        stored durably and atomically (write, fdatasync, rename)."""
    def checkpoint_handed_out(self, state: bytes = b"") -> None:
        """Live mode: every delivery handed out so far is handled, with `state`, stored
        durably. Error "state" in follow mode."""
    def close(self) -> None:
        """Releases the name (and detaches from the bus in live mode)."""
    def __enter__(self) -> "DurableSubscriber": ...
    def __exit__(self, *args: Any) -> None: ...

def recorder_stats(dir: str) -> Dict[str, Any]:
    """The counters a running `shmbus record` keeps in DIR/STATS (pid, records, bytes, syncs,
    last_event_id, lag_ns, held_events, shed, missed, updated_ns); not_found when none."""
