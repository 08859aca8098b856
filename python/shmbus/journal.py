"""Recorded sessions as pandas DataFrames, for research.

``shmbus record --bus B --out DIR`` writes a journal; ``read_journal(DIR)`` reads it back
with one row per event. The C++ reader (``JournalReader.read_batch``) hands over bounded
columnar batches (NumPy arrays and one payload blob), so decoding is column-wise: a batch of a
single catalogue type becomes its columns through ``numpy.frombuffer`` with the type's
structured dtype (the same field lists as the CLI's ``journal export``), never row by row.
``iter_journal_frames`` yields one DataFrame per batch when the whole session does not fit.
"""

from __future__ import annotations

import datetime
from typing import Iterator, Optional, Sequence, Union

import numpy as np

from ._shmbus import Error, JournalReader, dtype as _catalog_dtype

TimeLike = Union[int, str, datetime.datetime, np.datetime64, "pandas.Timestamp", None]

# Columns every frame has, in this order; catalogue fields (or `payload`) follow.
# journal_ns is CLOCK_REALTIME when the recorder wrote the record (journal_time: a UTC
# datetime); publish_ns is the event's bus timestamp, CLOCK_MONOTONIC of the publishing host
# (time since its boot, not a date), so publish_mono is a Timedelta: subtract two of them.
META_COLUMNS = ["event_id", "journal_ns", "journal_time", "publish_ns", "publish_mono", "topic",
                "priority", "producer", "producer_epoch", "producer_seq", "flags",
                "schema_version"]
_DEFAULT_BATCH = 65536


def _to_ns(t: TimeLike) -> Optional[int]:
    """ns since the epoch (UTC) of an int, ISO string, datetime, datetime64 or Timestamp."""
    if t is None:
        return None
    if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
        return int(t)
    import pandas as pd
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")  # naive times are UTC, as the journal's clock is
    return int(ts.value)


class _Dtypes:
    """Catalogue dtype of each topic name (None for topics outside the catalogue), cached."""

    def __init__(self):
        self._by_topic = {}

    def __call__(self, topic: str):
        if topic not in self._by_topic:
            try:
                self._by_topic[topic] = _catalog_dtype(topic)
            except Error:
                self._by_topic[topic] = None
        return self._by_topic[topic]


def _decode_text(values: np.ndarray) -> np.ndarray:
    """NUL-padded text as str objects, as Event.decode reads it (up to the first NUL, UTF-8
    with replacement). Decodes each distinct value once: symbols and venues repeat, and one
    str object per distinct value also keeps the column small."""
    distinct, index = np.unique(values, return_inverse=True)
    text = np.array([b.split(b"\0", 1)[0].decode("utf-8", "replace") for b in distinct.tolist()]
                    + [""], dtype=object)  # "" keeps it 1-d when there are no values
    return text[index]


def _field_columns(records: np.ndarray) -> dict:
    """The columns of a structured array: text as str, integers (enums too) as ints, integer
    arrays as lists; reserved bytes left out. A field named like a metadata column gets the
    prefix ``payload_``."""
    cols = {}
    for name in records.dtype.names:
        ftype = records.dtype.fields[name][0]
        if ftype.kind == "V":
            continue  # reserved
        values = records[name]
        if ftype.kind == "S":
            values = _decode_text(values)
        elif ftype.subdtype is not None:
            out = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                out[i] = v.tolist()
            values = out
        else:
            values = values.copy()  # not a view into the blob of the batch
        cols["payload_" + name if name in META_COLUMNS else name] = values
    return cols


def _batch_frame(batch: dict, dtypes: _Dtypes):
    import pandas as pd
    n = len(batch["event_id"])
    names = batch["topic_names"]
    codes = batch["topic_code"]
    cols = {
        "event_id": batch["event_id"],
        "journal_ns": batch["journal_ns"],
        "journal_time": pd.to_datetime(batch["journal_ns"].view(np.int64), unit="ns", utc=True),
        "publish_ns": batch["publish_ns"],
        "publish_mono": pd.to_timedelta(batch["publish_ns"].view(np.int64), unit="ns"),
        "topic": np.array(names, dtype=object)[codes],
        "priority": np.array(batch["priority_names"], dtype=object)[batch["priority"]],
    }
    for k in META_COLUMNS[7:]:
        cols[k] = batch[k]
    blob, offsets, sizes = batch["payload_blob"], batch["payload_offset"], batch["payload_size"]
    types = [dtypes(t) for t in names]
    first = types[0]
    if first is not None and all(t == first for t in types) and (sizes == first.itemsize).all():
        # Fast path: one catalogue type, payloads back to back in the blob.
        cols.update(_field_columns(np.frombuffer(blob, dtype=first, count=n)))
        return pd.DataFrame(cols)
    # Mixed topics: each catalogue type's rows decoded together, the rest as bytes. Integer
    # fields become nullable (Int64/UInt64, <NA> on other topics' rows), the others objects.
    decoded = np.zeros(n, dtype=bool)
    fields = {}  # name -> [values, mask (True: no value)]
    for t in {t for t in types if t is not None}:
        type_codes = [i for i, ti in enumerate(types) if ti == t]
        rows = np.flatnonzero(np.isin(codes, type_codes) & (sizes == t.itemsize))
        if len(rows) == 0:
            continue
        raw = b"".join(blob[o:o + t.itemsize] for o in offsets[rows].tolist())
        for name, values in _field_columns(np.frombuffer(raw, dtype=t)).items():
            if name not in fields:
                fields[name] = [np.zeros(n, dtype=values.dtype) if values.dtype.kind in "iu"
                                else np.full(n, None, dtype=object), np.ones(n, dtype=bool)]
            col, mask = fields[name]
            if col.dtype != object and col.dtype != values.dtype:  # same name, other type
                col = col.astype(object)
                col[mask] = None
                fields[name][0] = col
            col[rows] = values
            mask[rows] = False
        decoded[rows] = True
    for name, (col, mask) in fields.items():
        cols[name] = pd.arrays.IntegerArray(col, mask) if col.dtype.kind in "iu" else col
    if not decoded.all():
        payload = np.full(n, None, dtype=object)
        for r in np.flatnonzero(~decoded).tolist():
            o = int(offsets[r])
            payload[r] = blob[o:o + int(sizes[r])]
        cols["payload"] = payload
    return pd.DataFrame(cols)


def _patterns(topics: Union[str, Sequence[str], None]):
    return topics if topics is None or isinstance(topics, str) else list(topics)


def iter_journal_frames(dir: str, topics: Union[str, Sequence[str], None] = None,
                        start: TimeLike = None, end: TimeLike = None,
                        batch_size: int = _DEFAULT_BATCH) -> Iterator["pandas.DataFrame"]:
    """One DataFrame per batch of at most `batch_size` records (arguments as read_journal):
    memory stays bounded by the batch whatever the journal's size."""
    reader = JournalReader(dir, _patterns(topics), _to_ns(start), _to_ns(end))
    dtypes = _Dtypes()
    while True:
        batch = reader.read_batch(batch_size)
        if batch is None:
            return
        yield _batch_frame(batch, dtypes)


def read_journal(dir: str, topics: Union[str, Sequence[str], None] = None,
                 start: TimeLike = None, end: TimeLike = None) -> "pandas.DataFrame":
    """A recorded session (``shmbus record --out DIR``) as a DataFrame, one row per event in
    journal order.

    Columns: event_id, journal_ns and journal_time (the recorder's CLOCK_REALTIME, also as a
    UTC datetime), publish_ns and publish_mono (the bus timestamp: CLOCK_MONOTONIC of the
    publishing host, also as a Timedelta since its boot), topic, priority (its name),
    producer, producer_epoch, producer_seq, flags, schema_version; then, for catalogue topics,
    one column per payload field (text as str, integers and enums as int, integer arrays as
    lists; a field named like a column above is prefixed ``payload_``; with several topics in
    one frame integers are nullable, <NA> on other topics' rows), and for other topics a
    ``payload`` column of bytes (None on catalogue rows).

    topics: None (all), a pattern ("md.quote.*", "*", a topic name) or a list of patterns.
    start, end: journal time window [start, end): ns since the epoch, an ISO string, a
    datetime (naive means UTC) or a pandas Timestamp.

    Raises shmbus.Error: code "not_found" (no such directory, or no journal in it),
    "version_mismatch" (a journal of another format version), "corrupt", "invalid_argument"
    (a bad pattern).
    """
    import pandas as pd
    frames = list(iter_journal_frames(dir, topics, start, end))
    if not frames:
        kinds = {"journal_time": "datetime64[ns, UTC]", "publish_mono": "timedelta64[ns]",
                 "topic": object, "priority": object}
        return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "uint64")) for c in META_COLUMNS})
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)
