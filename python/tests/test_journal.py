"""A session recorded by the real `shmbus record` while a C++ producer publishes catalogue
quotes and Python publishes raw events, on a bus run by the real supervisor, read back with
shmbus.read_journal / JournalReader: exactly those events, in order, equal values; topic
filter and time window; the errors."""

import os
import shutil
import signal
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest

import shmbus
from conftest import CLI, Supervisor, eventually, peer, unique_bus
from test_api import quote

N = 500
RAW = [bytes([i % 256]) * (1 + i % 37) for i in range(40)]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """Records one session (all topics) and returns its directory."""
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"{CLI} is missing: build shmbus_cli first")
    name = unique_bus("journal")
    sup = Supervisor(name)
    out = str(tmp_path_factory.mktemp("journal") / "rec")
    rec = subprocess.Popen([CLI, "record", "--bus", name, "--out", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def subscribed():  # the recorder writes its pid into STATS once subscribed
            assert rec.poll() is None, rec.stderr.read()
            try:
                return shmbus.recorder_stats(out)["pid"] == rec.pid
            except shmbus.Error:
                return False
        eventually(subscribed, 10, "the recorder to subscribe")
        bus = shmbus.attach(name, "py-raw")
        bus.register_topic("raw.blob")
        producer = peer("produce", name, "md.quote.CPP", N)
        for payload in RAW:
            while not bus.publish("raw.blob", payload):
                pass  # a full ring is an outcome: try again
        _, err = producer.communicate(timeout=15)
        assert producer.returncode == 0, err
        bus.close()
        eventually(lambda: shmbus.recorder_stats(out)["records"] >= N + len(RAW), 10,
                   "the recorder to journal every event")
        rec.send_signal(signal.SIGTERM)
        assert rec.wait(10) == 0, rec.stderr.read()
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.wait()
        sup.stop()
    return out


def test_read_journal_returns_the_recorded_quotes_in_order_with_equal_fields(session):
    df = shmbus.read_journal(session, topics="md.quote.*")
    assert len(df) == N  # exactly those events
    assert list(df.columns[:12]) == shmbus.journal.META_COLUMNS
    assert (df["topic"] == "md.quote.CPP").all()
    assert df["producer_seq"].tolist() == list(range(1, N + 1))  # in order
    assert df["event_id"].is_monotonic_increasing
    assert (df["priority"] == "NORMAL").all()
    assert str(df["journal_time"].dtype) == "datetime64[ns, UTC]"
    assert str(df["publish_mono"].dtype) == "timedelta64[ns]"
    assert df["publish_mono"].is_monotonic_increasing  # one producer, one ring
    assert df["journal_time"].dt.year.min() >= 2024
    assert (df["recv_mono_ns"] > 0).all()
    for i, row in enumerate(df.drop(columns=shmbus.journal.META_COLUMNS).to_dict("records")):
        row["recv_mono_ns"] = 0
        assert row == quote(i)  # text as str, integers as int
    assert df["bid_price_e9"].dtype == np.int64  # column-wise, not object


def test_journal_reader_streams_records_with_raw_payloads_and_decoded_fields(session):
    raw = [r["payload"] for r in shmbus.JournalReader(session, topics="raw.*")]
    assert raw == RAW
    first = next(iter(shmbus.JournalReader(session, topics=["md.quote.CPP"])))
    assert first["fields"]["symbol"] == quote(0)["symbol"] and first["producer_seq"] == 1
    batch = shmbus.JournalReader(session).read_batch(7)
    assert len(batch["event_id"]) == 7  # bounded batches


def test_mixed_topics_give_fields_and_a_payload_column(session):
    df = shmbus.read_journal(session, topics=["md.quote.*", "raw.blob"])
    assert len(df) == N + len(RAW)
    raw = df[df["topic"] == "raw.blob"]
    assert raw["payload"].tolist() == RAW
    quotes = df[df["topic"] == "md.quote.CPP"]
    assert quotes["seq"].tolist() == list(range(N))
    assert quotes["symbol"].tolist() == [quote(i)["symbol"] for i in range(N)]
    assert quotes["payload"].isna().all()
    assert raw["seq"].isna().all() and str(df["seq"].dtype) == "UInt64"  # nullable integers
    # Small batches decode to the same frame as one big one.
    small = pd.concat(shmbus.iter_journal_frames(session, topics="md.quote.*", batch_size=64),
                      ignore_index=True)
    pd.testing.assert_frame_equal(small, shmbus.read_journal(session, topics="md.quote.*"))


def test_time_window_selects_journal_times_in_start_end(session):
    full = shmbus.read_journal(session, topics="md.quote.*")
    start, end = int(full["journal_ns"].iloc[100]), int(full["journal_ns"].iloc[400])
    expected = full[(full["journal_ns"] >= start) & (full["journal_ns"] < end)]
    got = shmbus.read_journal(session, topics="md.quote.*", start=start, end=end)
    assert got["event_id"].tolist() == expected["event_id"].tolist()
    by_time = shmbus.read_journal(session, topics="md.quote.*",
                                  start=pd.Timestamp(start, unit="ns", tz="UTC"),
                                  end=pd.Timestamp(end, unit="ns", tz="UTC"))
    assert by_time["event_id"].tolist() == expected["event_id"].tolist()
    assert len(shmbus.read_journal(session, start=end, end=start)) == 0


def test_missing_directory_raises_not_found(tmp_path):
    with pytest.raises(shmbus.Error) as e:
        shmbus.read_journal(str(tmp_path / "nope"))
    assert e.value.code == "not_found"


def test_bad_pattern_raises_invalid_argument(session):
    for bad in ("md.*.x", "", ["md.quote.*", "a.*b"]):
        with pytest.raises(shmbus.Error) as e:
            shmbus.read_journal(session, topics=bad)
        assert e.value.code == "invalid_argument"


def test_journal_of_another_version_raises_version_mismatch(session, tmp_path):
    copy = str(tmp_path / "other")
    shutil.copytree(session, copy)
    for f in shmbus.JournalReader(copy).files():
        with open(f["path"], "r+b") as fh:  # FileHeader.version_major at offset 8
            fh.seek(8)
            major = struct.unpack("<H", fh.read(2))[0]
            fh.seek(8)
            fh.write(struct.pack("<H", major + 1))
    with pytest.raises(shmbus.Error) as e:
        shmbus.read_journal(copy)
    assert e.value.code == "version_mismatch"
