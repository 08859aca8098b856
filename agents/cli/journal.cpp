// `shmbus journal ls|show|export DIR`: the files of a journal, its records as JSON lines with
// payloads decoded through the catalogue field lists, or every record as jsonl/csv.
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "journal_commands.hpp"
#include "payload_json.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/journal_recorder.hpp"

namespace shmbus::cli {

namespace {

constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

std::string utc(std::uint64_t ns) {
  const auto secs = static_cast<std::time_t>(ns / 1'000'000'000u);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>((ns % 1'000'000'000u) / 1000));
  return buf;
}

nlohmann::json record_json(const journal::Record& r) {
  return nlohmann::json{{"event_id", r.event_id},
                        {"journal_ns", r.journal_ns},
                        {"topic", std::string(r.meta.topic)},
                        {"priority", std::string(priority_name(r.meta.priority))},
                        {"producer", r.meta.producer},
                        {"producer_epoch", r.meta.producer_epoch},
                        {"producer_seq", r.meta.producer_seq},
                        {"publish_ns", r.meta.publish_ns},
                        {"ring_position", r.meta.ring_position},
                        {"flags", r.meta.flags},
                        {"size", r.payload.size()},
                        {"payload", decode_payload(r.meta.topic, r.payload)}};
}

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// Calls `each` for the records from options.from_id, at most options.count of them.
template <typename Each>
int walk(const JournalViewOptions& options, Each each) {
  auto reader = journal::Reader::open(options.dir);
  if (!reader) return report_error(reader.error());
  if (options.from_id != 0) {
    if (auto r = reader->seek_event(options.from_id); !r) return report_error(r.error());
  }
  journal::Record rec;
  std::uint64_t n = 0;
  while (options.count == 0 || n < options.count) {
    auto got = reader->next(rec);
    if (!got) return report_error(got.error());
    if (!*got) break;
    if (!each(rec)) return kExitError;  // stdout closed
    ++n;
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

}  // namespace

int run_journal_ls(const JournalViewOptions& options) {
  auto reader = journal::Reader::open(options.dir);
  if (!reader) return report_error(reader.error());
  std::printf("%-30s %12s %16s %-28s %s\n", "file", "bytes", "first_event_id", "created", "index");
  for (const auto& f : reader->files()) {
    const auto slash = f.path.find_last_of('/');
    std::printf("%-30s %12" PRIu64 " %16" PRIu64 " %-28s %s\n", f.path.substr(slash + 1).c_str(),
                f.file_bytes, f.first_event_id, utc(f.created_ns).c_str(),
                f.has_index ? "sealed" : "live");
  }
  if (auto st = journal::read_recorder_stats(options.dir)) {
    std::printf("recorder pid %" PRIu64 ": %" PRIu64 " records, %" PRIu64 " bytes, last id %" PRIu64
                ", lag %" PRIu64 " ns, %" PRIu64 " syncs (avg %" PRIu64 " ns, max %" PRIu64
                " ns), held %" PRIu64 " (%" PRIu64 " ns), shed %" PRIu64 "/%" PRIu64 "/%" PRIu64
                "/%" PRIu64 ", missed %" PRIu64 ", updated %s\n",
                st->pid, st->records, st->bytes, st->last_event_id, st->lag_ns, st->syncs,
                st->sync_ns_avg, st->sync_ns_max, st->held_events, st->held_ns, st->shed[0],
                st->shed[1], st->shed[2], st->shed[3], st->missed, utc(st->updated_ns).c_str());
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitError;
}

int run_journal_show(const JournalViewOptions& options) {
  return walk(options, [](const journal::Record& r) {
    const std::string line = record_json(r).dump(-1, ' ', false, kReplace) + "\n";
    return std::fputs(line.c_str(), stdout) >= 0;
  });
}

int run_journal_export(const JournalViewOptions& options) {
  if (options.format == "jsonl") return run_journal_show(options);
  std::puts(
      "event_id,journal_ns,topic,priority,producer,producer_epoch,producer_seq,publish_ns,flags,"
      "size,payload");
  return walk(options, [](const journal::Record& r) {
    const std::string payload =
        decode_payload(r.meta.topic, r.payload).dump(-1, ' ', false, kReplace);
    const std::string line =
        std::to_string(r.event_id) + "," + std::to_string(r.journal_ns) + "," +
        csv_field(std::string(r.meta.topic)) + "," + std::string(priority_name(r.meta.priority)) +
        "," + std::to_string(r.meta.producer) + "," + std::to_string(r.meta.producer_epoch) + "," +
        std::to_string(r.meta.producer_seq) + "," + std::to_string(r.meta.publish_ns) + "," +
        std::to_string(r.meta.flags) + "," + std::to_string(r.payload.size()) + "," +
        csv_field(payload) + "\n";
    return std::fputs(line.c_str(), stdout) >= 0;
  });
}

}  // namespace shmbus::cli
