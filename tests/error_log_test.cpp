// The error log (shm/error_log.hpp): entries appended as sys.error events are produced, kept in
// a bounded ring (oldest overwritten), read back by recent_errors() from the segment. Staged
// states check what readers reject: entries being written, torn by a stalled writer, or
// corrupt; a writer that died mid-write costs only its own entry. Threads-only test for TSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shm/error_log.hpp"
#include "shm/segment.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/sys_events.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using detail::ErrorLog;
using detail::ErrorLogEntry;
using detail::Segment;
using testing::SegmentGuard;
using testing::unique_bus_name;

BusConfig log_config(const std::string& name, std::uint32_t capacity) {
  BusConfig c = testing::small_bus_config(name, 8, 32);
  c.error_log_capacity = capacity;
  return c;
}

sys::ErrorEvent event(std::uint64_t n) {
  sys::ErrorEvent e{};
  e.error_mono_ns = 1000 + n;
  e.event_sequence = n;
  e.count = n;
  e.agent_index = 3;
  e.topic = 5;
  e.kind = sys::ErrorKind::kHandlerException;
  std::strncpy(e.agent, "agent-a", sizeof e.agent - 1);
  std::strncpy(e.handler, "handler-h", sizeof e.handler - 1);
  std::snprintf(e.message, sizeof e.message, "failure %llu", static_cast<unsigned long long>(n));
  return e;
}

class ErrorLogTest : public ::testing::Test {
 protected:
  void make(std::uint32_t capacity) {
    guard_ = std::make_unique<SegmentGuard>(unique_bus_name("errlog"));
    auto seg = Segment::create(log_config(guard_->name(), capacity));
    ASSERT_TRUE(seg) << seg.message();
    seg_ = std::move(seg.value());
    log_ = std::make_unique<ErrorLog>(*seg_);
  }
  ErrorLogEntry& slot(std::uint64_t index) {
    auto* entries = reinterpret_cast<ErrorLogEntry*>(seg_->region(seg_->plan().error_log_offset) +
                                                     sizeof(detail::ErrorLogHeader));
    return entries[index % seg_->config().error_log_capacity];
  }

  std::unique_ptr<SegmentGuard> guard_;
  std::unique_ptr<Segment> seg_;
  std::unique_ptr<ErrorLog> log_;
};

TEST_F(ErrorLogTest, AppendsAndReadsBackEveryField) {
  make(8);
  EXPECT_TRUE(log_->read().empty());
  ASSERT_TRUE(log_->append(event(1), 123456789));
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].index, 0u);
  EXPECT_EQ(all[0].time_ns, 123456789u);
  EXPECT_EQ(all[0].error_mono_ns, 1001u);
  EXPECT_EQ(all[0].event_sequence, 1u);
  EXPECT_EQ(all[0].count, 1u);
  EXPECT_EQ(all[0].agent, 3u);
  EXPECT_EQ(all[0].topic, 5u);
  EXPECT_EQ(all[0].code, static_cast<std::uint32_t>(sys::ErrorKind::kHandlerException));
  EXPECT_EQ(all[0].agent_name, "agent-a");
  EXPECT_EQ(all[0].handler, "handler-h");
  EXPECT_EQ(all[0].text, "failure 1");
}

TEST_F(ErrorLogTest, WrapsKeepingTheNewestEntriesOldestFirst) {
  make(4);
  for (std::uint64_t n = 0; n < 10; ++n) ASSERT_TRUE(log_->append(event(n), n));
  EXPECT_EQ(log_->appended(), 10u);
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(all[i].index, 6 + i);
    EXPECT_EQ(all[i].text, "failure " + std::to_string(6 + i));
  }
  const auto last_two = log_->read(2);
  ASSERT_EQ(last_two.size(), 2u);
  EXPECT_EQ(last_two[0].index, 8u);
  EXPECT_EQ(last_two[1].index, 9u);
}

TEST_F(ErrorLogTest, EntryBeingWrittenIsSkipped) {
  make(4);
  ASSERT_TRUE(log_->append(event(0), 0));
  ASSERT_TRUE(log_->append(event(1), 1));
  slot(1).seq.store(2 | detail::kErrorLogWriting);  // its writer is between mark and commit
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].index, 0u);
}

TEST_F(ErrorLogTest, TornEntryIsRejected) {
  make(4);
  ASSERT_TRUE(log_->append(event(0), 0));
  ASSERT_TRUE(log_->append(event(1), 1));
  // A stalled writer that was overtaken stores one more word after the new owner committed.
  slot(1).text[3] ^= 0x20;
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].index, 0u);
}

TEST_F(ErrorLogTest, CorruptEntriesAndIndexAreRejected) {
  make(4);
  for (std::uint64_t n = 0; n < 4; ++n) ASSERT_TRUE(log_->append(event(n), n));
  slot(0).seq.store(77);                                // seq of another lap
  slot(1).checksum ^= 1;                                // checksum off
  std::memset(slot(2).text, 'x', sizeof slot(2).text);  // no NUL: checksum off as well
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].index, 3u);
  // A next index far past anything written: every entry's seq disagrees, nothing is shown.
  auto& header =
      *reinterpret_cast<detail::ErrorLogHeader*>(seg_->region(seg_->plan().error_log_offset));
  header.next.store(~0ull - 1);
  EXPECT_TRUE(log_->read().empty());
}

TEST_F(ErrorLogTest, TextWithoutTerminatorIsCutAtItsField) {
  make(4);
  sys::ErrorEvent e = event(0);
  std::memset(e.message, 'm', sizeof e.message);  // no NUL in the event either
  ASSERT_TRUE(log_->append(e, 0));
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].text, std::string(sizeof e.message, 'm'));
}

TEST_F(ErrorLogTest, WriterThatDiedMidWriteLosesOnlyItsOwnEntry) {
  make(4);
  ASSERT_TRUE(log_->append(event(0), 0));
  // Index 1 claimed by a writer that died after marking its entry.
  auto& header =
      *reinterpret_cast<detail::ErrorLogHeader*>(seg_->region(seg_->plan().error_log_offset));
  header.next.fetch_add(1);
  slot(1).seq.store(2 | detail::kErrorLogWriting);
  for (std::uint64_t n = 2; n < 6; ++n) ASSERT_TRUE(log_->append(event(n), n));
  const auto all = log_->read();
  ASSERT_EQ(all.size(), 4u);  // indexes 2..5; index 5 took the dead writer's entry over
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(all[i].index, 2 + i);
}

TEST_F(ErrorLogTest, ThreadsAppendingWhileOthersReadNeverShowABadEntry) {
  make(8);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0}, seen{0}, taken_over{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (const auto& c : log_->read()) {
        ++seen;
        // Every field of one entry comes from one append.
        if (c.text != "failure " + std::to_string(c.count) || c.event_sequence != c.count ||
            c.time_ns != c.count || c.error_mono_ns != 1000 + c.count) {
          ++bad;
        }
      }
    }
  });
  std::vector<std::thread> writers;
  const std::uint64_t per_writer = testing::scaled(5000);
  for (std::uint64_t w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < per_writer; ++i) {
        const std::uint64_t n = w * 1'000'000 + i;
        if (!log_->append(event(n), n)) ++taken_over;
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(log_->appended(), 3 * per_writer);
  // A writer stalled for a whole lap mid-copy is taken over by the next one of its slot; when
  // it resumes, its late stores can spoil the slot (readers then skip it by its checksum, as
  // `bad` shows). Only such a lost append may cost an entry of the last lap.
  EXPECT_GE(log_->read().size() + std::min<std::uint64_t>(taken_over.load(), 8), 8u);
}

TEST(ErrorLogBusTest, HandlerFailureIsLoggedAndReadByRecentErrors) {
  const std::string name = unique_bus_name("errbus");
  SegmentGuard guard(name);
  // No handler budget: a slow first throw would log a second (handler_slow) entry.
  auto bus = Bus::create(log_config(name, 16), {.name = "owner", .handler_budget = 0ns});
  ASSERT_TRUE(bus) << bus.message();
  ASSERT_TRUE(bus->on("x.t",
                      [](const EventView&) -> void { throw std::runtime_error("bad quote"); },
                      {.name = "pricer"}));
  auto topic = bus->register_topic("x.t", 8);
  ASSERT_TRUE(topic);
  const std::uint64_t v = 1;
  ASSERT_EQ(bus->publish(*topic, &v, sizeof v), PublishStatus::kOk);
  ASSERT_GE(bus->poll(), 1u);

  auto errors = recent_errors(name);
  ASSERT_TRUE(errors) << errors.message();
  ASSERT_EQ(errors->size(), 1u);
  const ErrorRecord& r = errors->front();
  EXPECT_EQ(r.kind, sys::ErrorKind::kHandlerException);
  EXPECT_EQ(r.agent, "owner");
  EXPECT_EQ(r.agent_index, bus->agent_index());
  EXPECT_EQ(r.handler, "pricer");
  EXPECT_EQ(r.topic, *topic);
  EXPECT_EQ(r.message, "bad quote");
  EXPECT_GT(r.time_ns, 0u);
  EXPECT_EQ(sys::error_kind_name(r.kind), "handler_exception");
  EXPECT_EQ(recent_errors(unique_bus_name("none")).code(), Errc::kNotFound);
}

}  // namespace
}  // namespace shmbus
