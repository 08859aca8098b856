// Reading a recorded session (shmbus/journal.hpp) from Python: JournalReader streams records one
// at a time or in bounded columnar batches (NumPy arrays plus one payload blob), so memory stays
// flat whatever the journal's size. shmbus.read_journal (python/shmbus/__init__.py) builds the
// pandas DataFrame from those batches.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shmbus/journal.hpp"

namespace shmbus::py {

namespace pyb = pybind11;

/// shmbus.JournalReader(dir, topics=None, start_ns=None, end_ns=None). One thread at a time:
/// read_batch releases the GIL while it reads the files, and a call from another thread
/// meanwhile raises shmbus.Error (state).
class PyJournalReader {
 public:
  /// Opens the journal in `dir` and positions it at the first record with journal time >=
  /// `start_ns`; records with journal time >= `end_ns` end the reading. `topics` is None, a
  /// pattern or a list of patterns ("md.quote.*", "*", a topic name). Raises shmbus.Error:
  /// not_found (no dir, no journal files), version_mismatch, corrupt, invalid_argument (pattern).
  PyJournalReader(const std::string& dir, const pyb::object& topics,
                  std::optional<std::uint64_t> start_ns, std::optional<std::uint64_t> end_ns);

  /// The next matching record as a dict (see __init__.pyi); raises StopIteration at the end.
  pyb::dict next();
  /// Up to `max_records` matching records as columns (see __init__.pyi); None at the end.
  pyb::object read_batch(std::size_t max_records);
  /// The journal's files (path, file_index, file_bytes, first_event_id, created_ns, has_index).
  pyb::list files() const;

 private:
  /// The next record that passes the topic filter and time window; false at the end. Touches
  /// no Python object (read_batch calls it without the GIL).
  Result<bool> advance(journal::Record& out);
  /// Raises shmbus.Error (state) while read_batch runs without the GIL in another thread.
  void check_idle() const;

  journal::Reader reader_;
  std::vector<std::string> patterns_;  // empty: every topic
  std::optional<std::uint64_t> end_ns_;
  bool ended_ = false;
  bool busy_ = false;  // read and written with the GIL held
};

/// One record as JournalReader.__next__ returns it (a dict; payload copied into bytes).
pyb::dict journal_record_dict(const journal::Record& r);

/// Registers JournalReader and recorder_stats in `m`.
void register_journal(pyb::module_& m);

}  // namespace shmbus::py
