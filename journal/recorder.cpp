// Recorder: Bus subscriber -> Writer, with the hold/shed policy and the STATS file.
#include "shmbus/journal_recorder.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include <spdlog/spdlog.h>

#include "journal/mapped_file.hpp"
#include "shm/agent_dir.hpp"
#include "shm/clock.hpp"
#include "shmbus/bus.hpp"

namespace shmbus::journal {

using shmbus::detail::monotonic_ns;
using shmbus::detail::realtime_ns;

namespace {

constexpr std::uint64_t kStatsMagic = 0x5354414a42484d53ull;  // "SMHBJATS"
constexpr std::uint64_t kStatsVersion = 1;

static_assert(std::is_trivially_copyable_v<RecorderStats>);
static_assert(sizeof(RecorderStats) % 8 == 0);
constexpr std::string_view kRegistrationKind = "journal";

}  // namespace

struct Recorder::Impl {
  RecorderOptions opts;
  std::optional<Writer> writer;
  std::optional<Bus> bus;
  RecorderStats st;
  shmbus::detail::StatsBlockFile stats_file;
  std::atomic<bool> stopping{false};
  Result<void> failure;
  // Resume: the last journaled sequence per (producer, epoch, priority), checked for the first
  // events only (the rings' history), then dropped.
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint8_t>, std::uint64_t> journaled;
  std::uint64_t dedupe_left = 0;
  // Resume: per priority, 1 + the ring position of the last journaled event (0: none), compared
  // with the first event the ring delivers after the restart: positions between them were
  // overwritten while no recorder held them (an outage longer than the ring's history).
  std::array<std::uint64_t, kPriorityCount> resume_next{};

  Result<void> load_journaled(std::uint64_t history_events) {
    auto reader = Reader::open(opts.journal.dir);
    if (!reader) return reader.error();
    const auto& files = reader->files();
    if (files.size() >= 2) {
      if (auto r = reader->seek_event(files[files.size() - 2].first_event_id); !r) return r;
    }
    Record rec;
    for (;;) {
      auto got = reader->next(rec);
      if (!got) return got.error();
      if (!*got) break;
      auto& last = journaled[{rec.meta.producer, rec.meta.producer_epoch,
                              static_cast<std::uint8_t>(rec.meta.priority)}];
      last = std::max(last, rec.meta.producer_seq);
      auto& next = resume_next[index_of(rec.meta.priority)];
      next = std::max(next, rec.meta.ring_position + 1);
    }
    dedupe_left = journaled.empty() ? 0 : history_events;
    return {};
  }

  // The /dev/shm link that lists this journal with its bus; removed on destruction.
  shmbus::detail::Registration registration;

  void publish_stats() noexcept {
    const WriterStats& w = writer->stats();
    st.records = w.records;
    st.bytes = w.bytes;
    st.syncs = w.syncs;
    st.sync_ns_max = w.sync_ns_max;
    st.sync_ns_avg = w.syncs == 0 ? 0 : w.sync_ns_total / w.syncs;
    st.updated_ns = realtime_ns();
    stats_file.store(&st, sizeof st);
  }

  /// The first event of ring `p` after a resume: reports the positions the outage lost.
  void check_resume_gap(std::size_t p, const EventView& e) {
    const std::uint64_t next = std::exchange(resume_next[p], 0);
    // A position below `next` is history already journaled, or a recreated bus: no gap to tell.
    if (e.position <= next) return;
    const std::uint64_t lost = e.position - next;
    const bool exact = opts.topics.size() == 1 && opts.topics[0] == "*";
    if (exact) st.missed += lost;
    spdlog::warn(
        "journal {}: resumed after an outage longer than the {} ring's history: {}{} events "
        "published while no journal agent ran were overwritten before it returned and are not "
        "in the journal (ring positions {}..{})",
        opts.journal.dir, priority_name(e.priority), exact ? "" : "up to ", lost, next,
        e.position - 1);
  }

  void on_event(const EventView& e) {
    if (!opts.priorities[index_of(e.priority)]) return;
    if (resume_next[index_of(e.priority)] != 0) check_resume_gap(index_of(e.priority), e);
    if (dedupe_left != 0) {
      --dedupe_left;
      const auto it = journaled.find(
          {e.id.producer, e.id.producer_epoch, static_cast<std::uint8_t>(e.priority)});
      if (it != journaled.end() && e.id.sequence <= it->second) {
        ++st.duplicates_skipped;
        return;
      }
      if (dedupe_left == 0) journaled.clear();
    }
    RecordMeta m;
    m.topic = e.topic_name;
    m.priority = e.priority;
    m.flags = e.flags;
    m.schema_version = e.schema_version;
    m.producer = e.id.producer;
    m.producer_epoch = e.id.producer_epoch;
    m.producer_seq = e.id.sequence;
    m.publish_ns = e.timestamp_ns;
    m.ring_position = e.position;
    std::uint64_t id = 0;
    AppendStatus s = writer->append(m, e.payload, &id);
    if (s == AppendStatus::kNoSpace || s == AppendStatus::kIoError) {
      if (opts.backpressure == Backpressure::kShed) {
        ++st.shed[index_of(e.priority)];
        return;
      }
      // Hold: do not return; this subscriber's cursor stays, so producers are held back.
      ++st.held_events;
      const std::uint64_t t0 = monotonic_ns();
      spdlog::warn("journal {}: {} ({}); holding producers back until it clears", opts.journal.dir,
                   append_status_name(s), writer->last_error());
      while ((s == AppendStatus::kNoSpace || s == AppendStatus::kIoError) && !stopping.load()) {
        publish_stats();
        bus->heartbeat();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // waiting for disk space
        s = writer->append(m, e.payload, &id);
      }
      st.held_ns += monotonic_ns() - t0;
      if (s != AppendStatus::kOk) return;  // stopping: the event stays unjournaled, reported
    } else if (s != AppendStatus::kOk) {
      spdlog::error("journal {}: event on {} refused: {}", opts.journal.dir, e.topic_name,
                    append_status_name(s));
      ++st.shed[index_of(e.priority)];
      return;
    }
    st.last_event_id = id;
    const std::uint64_t now = monotonic_ns();
    st.lag_ns = now > e.timestamp_ns ? now - e.timestamp_ns : 0;
  }
};

Recorder::Recorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recorder::Recorder(Recorder&&) noexcept = default;
Recorder& Recorder::operator=(Recorder&&) noexcept = default;
Recorder::~Recorder() = default;

Result<Recorder> Recorder::open(const RecorderOptions& options) {
  for (const auto& p : options.topics) {
    if (auto e = validate_topic_pattern(p); !e.empty()) {
      return Error{Errc::kInvalidArgument, "bad topic pattern '" + p + "': " + e};
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  auto w = Writer::open(options.journal);
  if (!w) return w.error();
  impl->writer.emplace(std::move(*w));
  if (impl->writer->recovery().damaged()) {
    spdlog::warn("journal recovery: {}", impl->writer->recovery().describe());
  }
  AgentOptions agent;
  agent.name = options.agent_name;
  agent.wait = options.wait;
  agent.handler_budget = std::chrono::nanoseconds(0);  // a disk may stall; not a slow handler
  agent.max_handler_failures = 0;
  agent.start_from_history = options.resume_from_history;
  auto b = Bus::attach(options.bus, agent);
  if (!b) return b.error();
  impl->bus.emplace(std::move(*b));
  if (options.resume_from_history) {
    // The writer is open (recovered); read what it holds before events arrive.
    const auto& c = impl->bus->config();
    const std::uint64_t history = std::uint64_t{c.history_depth} * kPriorityCount;
    if (auto r = impl->load_journaled(history); !r) return r.error();
  }
  Impl* self = impl.get();
  for (const auto& p : options.topics) {
    auto sub = impl->bus->on(
        p, [self](const EventView& e) { self->on_event(e); }, HandlerOptions{"journal"});
    if (!sub) return sub.error();
  }
  impl->bus->on_gap([self](Priority, std::uint64_t missed) { self->st.missed += missed; });
  impl->st.pid = static_cast<std::uint64_t>(::getpid());
  // The STATS file: mapped once, plain stores afterwards (no system call per update).
  impl->stats_file.open(options.journal.dir, kStatsMagic, kStatsVersion, sizeof(RecorderStats),
                        "journal " + options.journal.dir);
  // Before the pid shows in STATS: who waits for that finds the link. Best effort: a journal
  // that cannot register still records; it is only missing from `shmbus status` and metrics.
  impl->registration.open(kRegistrationKind, options.bus, options.agent_name, options.journal.dir);
  impl->publish_stats();
  return Recorder(std::move(impl));
}

Result<void> Recorder::run() {
  Impl& m = *impl_;
  while (!m.stopping.load()) {
    const std::size_t n = m.bus->poll_wait(1024, std::chrono::milliseconds(5));
    m.writer->tick();
    if (n != 0 || (m.st.updated_ns + 100'000'000u) < realtime_ns()) m.publish_stats();
  }
  // Drain what is already in the rings, then make it durable.
  while (m.bus->poll(4096) != 0) {
  }
  auto r = m.writer->close();
  m.publish_stats();
  return r;
}

void Recorder::stop() noexcept {
  impl_->stopping.store(true);
  if (impl_->bus) impl_->bus->stop();
}

const RecoveryReport& Recorder::recovery() const noexcept {
  return impl_->writer->recovery();
}
RecorderStats Recorder::stats() const noexcept {
  return impl_->st;
}

Result<RecorderStats> read_recorder_stats(const std::string& dir) {
  RecorderStats st{};
  if (auto r = shmbus::detail::read_stats_block(dir, kStatsMagic, kStatsVersion, &st, sizeof st,
                                                "recorder stats");
      !r) {
    return r.error();
  }
  return st;
}

std::string journal_registration_path(std::string_view bus, std::string_view agent) {
  return shmbus::detail::registration_path(kRegistrationKind, bus, agent);
}

std::vector<BusJournal> list_bus_journals(std::string_view bus) {
  std::vector<BusJournal> out;
  for (auto& r : shmbus::detail::list_registered(kRegistrationKind, bus)) {
    BusJournal j;
    j.agent = std::move(r.agent);
    j.dir = std::move(r.dir);
    if (auto st = read_recorder_stats(j.dir)) {
      j.stats = *st;
    } else {
      j.error = st.message();
    }
    // Live means the kernel still holds the writer's lock on the directory: a recorder killed
    // with SIGKILL (its link left behind, its pid a zombie or reused) is not running.
    j.running = r.lock_held.value_or(shmbus::detail::pid_alive(j.stats.pid));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace shmbus::journal
