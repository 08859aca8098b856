// shmbus.JournalReader and shmbus.recorder_stats (py_journal.hpp).
#include "py_journal.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <unordered_map>
#include <utility>

#include "py_errors.hpp"
#include "py_fields.hpp"
#include "shmbus/journal_recorder.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::py {

namespace {

using namespace pybind11::literals;

std::vector<std::string> parse_patterns(const pyb::object& topics) {
  std::vector<std::string> patterns;
  if (topics.is_none()) return patterns;
  if (pyb::isinstance<pyb::str>(topics)) {
    patterns.push_back(topics.cast<std::string>());
  } else if (pyb::isinstance<pyb::sequence>(topics)) {
    for (pyb::handle t : topics) {
      if (!pyb::isinstance<pyb::str>(t)) {
        raise_error(Errc::kInvalidArgument,
                    "topics: patterns are str, got " +
                        std::string(pyb::str(t.get_type().attr("__name__"))));
      }
      patterns.push_back(t.cast<std::string>());
    }
  } else {
    raise_error(Errc::kInvalidArgument,
                "topics: a pattern or a list of patterns, not " +
                    std::string(pyb::str(topics.get_type().attr("__name__"))));
  }
  for (const std::string& p : patterns) {
    if (std::string why = validate_topic_pattern(p); !why.empty()) {
      raise_error(Errc::kInvalidArgument, "topics: pattern '" + p + "': " + why);
    }
  }
  return patterns;
}

journal::Reader open_reader(const std::string& dir) {
  auto r = journal::Reader::open(dir);
  if (!r) raise_error(r.code(), "journal " + dir + ": " + r.message());
  return std::move(r).value();
}

pyb::bytes payload_bytes(const journal::Record& r) {
  return pyb::bytes(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
}

}  // namespace

PyJournalReader::PyJournalReader(const std::string& dir, const pyb::object& topics,
                                 std::optional<std::uint64_t> start_ns,
                                 std::optional<std::uint64_t> end_ns)
    : reader_(open_reader(dir)), patterns_(parse_patterns(topics)), end_ns_(end_ns) {
  if (start_ns) unwrap(reader_.seek_time(*start_ns));
}

Result<bool> PyJournalReader::advance(journal::Record& out) {
  while (!ended_) {
    auto got = reader_.next(out);
    if (!got) return got.error();
    if (!*got) return false;  // the end for now: a journal still written may grow
    // Journal time never goes back (the writer clamps it), so the window's end ends the reading.
    if (end_ns_ && out.journal_ns >= *end_ns_) {
      ended_ = true;
      return false;
    }
    if (patterns_.empty()) return true;
    for (const std::string& p : patterns_) {
      if (topic_matches(p, out.meta.topic)) return true;
    }
  }
  return false;
}

pyb::dict PyJournalReader::next() {
  check_idle();
  journal::Record r;
  if (!unwrap(advance(r))) throw pyb::stop_iteration();
  return journal_record_dict(r);
}

pyb::dict journal_record_dict(const journal::Record& r) {
  pyb::dict d;
  d["event_id"] = r.event_id;
  d["journal_ns"] = r.journal_ns;
  d["publish_ns"] = r.meta.publish_ns;
  d["topic"] = std::string(r.meta.topic);
  d["priority"] = std::string(priority_name(r.meta.priority));
  d["producer"] = r.meta.producer;
  d["producer_epoch"] = r.meta.producer_epoch;
  d["producer_seq"] = r.meta.producer_seq;
  d["flags"] = r.meta.flags;
  d["schema_version"] = r.meta.schema_version;
  d["payload"] = payload_bytes(r);
  // Catalogue payloads decoded through the field lists, as Event.decode does; None otherwise.
  const catalog::CatalogEntry* entry = catalog_entry(r.meta.topic);
  d["fields"] = entry != nullptr && entry->payload_size == r.payload.size()
                    ? pyb::object(decode_fields(*entry, r.payload))
                    : pyb::object(pyb::none());
  return d;
}

void PyJournalReader::check_idle() const {
  if (busy_) raise_error(Errc::kState, "JournalReader: read_batch is running in another thread");
}

pyb::object PyJournalReader::read_batch(std::size_t max_records) {
  check_idle();
  if (max_records == 0) raise_error(Errc::kInvalidArgument, "read_batch: max_records is 0");
  struct Columns {
    std::vector<std::uint64_t> event_id, journal_ns, publish_ns, producer_seq, payload_offset;
    std::vector<std::uint32_t> producer, producer_epoch, payload_size, topic_code;
    std::vector<std::uint16_t> flags, schema_version;
    std::vector<std::uint8_t> priority;
    std::vector<std::string> topic_names;
    std::string blob;
  } c;
  std::unordered_map<std::string, std::uint32_t> codes;
  std::uint32_t last_code = 0;
  std::optional<Error> failed;  // raised once the GIL is back
  {
    // The files are read without the GIL: another Python thread runs meanwhile, and one that
    // calls into this reader then gets an error instead of racing it (busy_).
    struct Busy {  // cleared however the block ends (bad_alloc included)
      bool& flag;
      explicit Busy(bool& f) : flag(f) { flag = true; }
      ~Busy() { flag = false; }
    } busy(busy_);
    pyb::gil_scoped_release release;
    journal::Record r;
    while (c.event_id.size() < max_records) {
      auto got = advance(r);
      if (!got) {
        failed = got.error();
        break;
      }
      if (!*got) break;
      c.event_id.push_back(r.event_id);
      c.journal_ns.push_back(r.journal_ns);
      c.publish_ns.push_back(r.meta.publish_ns);
      c.producer_seq.push_back(r.meta.producer_seq);
      c.producer.push_back(r.meta.producer);
      c.producer_epoch.push_back(r.meta.producer_epoch);
      c.flags.push_back(r.meta.flags);
      c.schema_version.push_back(r.meta.schema_version);
      c.priority.push_back(static_cast<std::uint8_t>(r.meta.priority));
      // Sessions run long on one topic: compare with the last one before hashing a copy.
      if (c.topic_names.empty() || r.meta.topic != c.topic_names[last_code]) {
        auto [it, added] =
            codes.try_emplace(std::string(r.meta.topic), static_cast<std::uint32_t>(codes.size()));
        if (added) c.topic_names.push_back(it->first);
        last_code = it->second;
      }
      c.topic_code.push_back(last_code);
      c.payload_offset.push_back(c.blob.size());
      c.payload_size.push_back(static_cast<std::uint32_t>(r.payload.size()));
      c.blob.append(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
    }
  }
  if (failed) raise_error(failed->code, failed->message);
  if (c.event_id.empty()) return pyb::none();
  auto arr = [](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    return pyb::array_t<T>(static_cast<pyb::ssize_t>(v.size()), v.data());
  };
  pyb::list names;
  for (const std::string& t : c.topic_names) names.append(pyb::str(t));
  pyb::list priority_names;
  for (std::uint32_t p = 0; p < kPriorityCount; ++p) {
    priority_names.append(pyb::str(std::string(priority_name(static_cast<Priority>(p)))));
  }
  pyb::dict d;
  d["event_id"] = arr(c.event_id);
  d["journal_ns"] = arr(c.journal_ns);
  d["publish_ns"] = arr(c.publish_ns);
  d["priority"] = arr(c.priority);
  d["producer"] = arr(c.producer);
  d["producer_epoch"] = arr(c.producer_epoch);
  d["producer_seq"] = arr(c.producer_seq);
  d["flags"] = arr(c.flags);
  d["schema_version"] = arr(c.schema_version);
  d["topic_code"] = arr(c.topic_code);
  d["topic_names"] = names;
  d["priority_names"] = priority_names;
  d["payload_offset"] = arr(c.payload_offset);
  d["payload_size"] = arr(c.payload_size);
  d["payload_blob"] = pyb::bytes(c.blob);
  return d;
}

pyb::list PyJournalReader::files() const {
  check_idle();
  pyb::list l;
  for (const journal::FileInfo& f : reader_.files()) {
    l.append(pyb::dict("path"_a = f.path, "file_index"_a = f.file_index,
                       "file_bytes"_a = f.file_bytes, "first_event_id"_a = f.first_event_id,
                       "created_ns"_a = f.created_ns, "has_index"_a = f.has_index));
  }
  return l;
}

void register_journal(pyb::module_& m) {
  pyb::class_<PyJournalReader>(m, "JournalReader",
                               "Reads a recorded session in order; see shmbus.read_journal.")
      .def(pyb::init<const std::string&, const pyb::object&, std::optional<std::uint64_t>,
                     std::optional<std::uint64_t>>(),
           "dir"_a, "topics"_a = pyb::none(), "start_ns"_a = pyb::none(), "end_ns"_a = pyb::none())
      .def("__iter__", [](pyb::object self) { return self; })
      .def("__next__", &PyJournalReader::next)
      .def("read_batch", &PyJournalReader::read_batch, "max_records"_a = 65536)
      .def("files", &PyJournalReader::files);
  m.def(
      "recorder_stats",
      [](const std::string& dir) {
        const journal::RecorderStats st = unwrap(journal::read_recorder_stats(dir));
        pyb::list shed;
        for (std::uint64_t s : st.shed) shed.append(s);
        return pyb::dict("pid"_a = st.pid, "records"_a = st.records, "bytes"_a = st.bytes,
                         "syncs"_a = st.syncs, "last_event_id"_a = st.last_event_id,
                         "lag_ns"_a = st.lag_ns, "held_events"_a = st.held_events, "shed"_a = shed,
                         "missed"_a = st.missed, "updated_ns"_a = st.updated_ns);
      },
      "dir"_a);
}

}  // namespace shmbus::py
