// ErrorLog: append and read of the error-log ring. The seqlock pattern of the dead-letter area
// (shm/dead_letter_area.cpp), plus a checksum so a stalled writer that was overtaken cannot
// leave a torn entry that looks committed.
#include "shm/error_log.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "shm/shared_words.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus::detail {

namespace {

constexpr std::size_t kWords = sizeof(ErrorLogEntry) / 8;
constexpr std::size_t kSeqWord = offsetof(ErrorLogEntry, seq) / 8;
constexpr std::size_t kChecksumWord = offsetof(ErrorLogEntry, checksum) / 8;
static_assert(sizeof(ErrorLogEntry) % 8 == 0 && alignof(ErrorLogEntry) == 8);

// The seq word (the first) is only CASed; the copies skip it.
constexpr std::size_t kSeqBytes = sizeof(std::uint64_t);
static_assert(offsetof(ErrorLogEntry, seq) == 0);

}  // namespace

ErrorLog::ErrorLog(const Segment& segment) noexcept
    : header_(reinterpret_cast<ErrorLogHeader*>(segment.region(segment.plan().error_log_offset))),
      entries_(reinterpret_cast<ErrorLogEntry*>(segment.region(segment.plan().error_log_offset) +
                                                sizeof(ErrorLogHeader))),
      capacity_(segment.config().error_log_capacity) {}

std::uint64_t ErrorLog::appended() const noexcept {
  return header_->next.load(std::memory_order_acquire);
}

std::uint64_t ErrorLog::checksum(const ErrorLogEntry& entry, std::uint64_t seq) noexcept {
  const auto* bytes = reinterpret_cast<const std::byte*>(&entry);
  std::uint64_t h = 0xCBF29CE484222325ull ^ seq;
  for (std::size_t i = 0; i < kWords; ++i) {
    if (i == kSeqWord || i == kChecksumWord) continue;
    std::uint64_t w = 0;
    std::memcpy(&w, bytes + i * 8, 8);
    h = (h ^ w) * 0x100000001B3ull;
  }
  return h;
}

bool ErrorLog::append(const sys::ErrorEvent& e, std::uint64_t realtime_ns) noexcept {
  if (capacity_ == 0) return false;
  const std::uint64_t index = header_->next.fetch_add(1, std::memory_order_acq_rel);
  ErrorLogEntry& shared = entry(index);
  const std::uint64_t mine = index + 1;
  std::uint64_t old = shared.seq.load(std::memory_order_acquire);
  for (;;) {
    // A newer entry holds the slot already (we were preempted a whole lap): ours is the oldest.
    if ((old & ~kErrorLogWriting) >= mine) return false;
    // Committed, never written, or marked by an older writer: ours now.
    if (shared.seq.compare_exchange_weak(old, mine | kErrorLogWriting, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      break;
    }
  }
  // Our data stores stay after the writing mark (a reader that copies them sees the mark, or a
  // later seq, on its re-check).
  std::atomic_thread_fence(std::memory_order_release);
  ErrorLogEntry local{};
  local.time_ns = realtime_ns;
  local.agent = e.agent_index;
  local.code = static_cast<std::uint32_t>(e.kind);
  local.topic = e.topic;
  local.errc = static_cast<std::uint32_t>(e.errc);
  local.event_sequence = e.event_sequence;
  local.count = e.count;
  local.error_mono_ns = e.error_mono_ns;
  set_symbol(local.agent_name, symbol_view(e.agent));
  set_symbol(local.handler, symbol_view(e.handler));
  set_symbol(local.text, symbol_view(e.message));
  local.checksum = checksum(local, mine);
  store_words(reinterpret_cast<std::byte*>(&shared) + kSeqBytes,
              reinterpret_cast<const std::byte*>(&local) + kSeqBytes, sizeof local - kSeqBytes);
  std::uint64_t expected = mine | kErrorLogWriting;
  // Fails only when a later writer took the entry over while we were stalled: theirs wins.
  return shared.seq.compare_exchange_strong(expected, mine, std::memory_order_release,
                                            std::memory_order_relaxed);
}

std::vector<ErrorLogCopy> ErrorLog::read(std::size_t limit) const {
  std::vector<ErrorLogCopy> out;
  if (capacity_ == 0) return out;
  const std::uint64_t next = header_->next.load(std::memory_order_acquire);
  std::uint64_t first = next > capacity_ ? next - capacity_ : 0;
  if (limit != 0 && next - first > limit) first = next - limit;
  out.reserve(static_cast<std::size_t>(next - first));
  for (std::uint64_t i = first; i < next; ++i) {
    const ErrorLogEntry& shared = entry(i);
    const std::uint64_t s = shared.seq.load(std::memory_order_acquire);
    if (s != i + 1) continue;  // not committed yet, being rewritten, or already overwritten
    ErrorLogEntry copy{};
    load_words(reinterpret_cast<std::byte*>(&copy) + kSeqBytes,
               reinterpret_cast<const std::byte*>(&shared) + kSeqBytes, sizeof copy - kSeqBytes);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (shared.seq.load(std::memory_order_relaxed) != s) continue;  // overwritten while copied
    if (copy.checksum != checksum(copy, s)) continue;  // torn by a stalled writer, or corrupt
    ErrorLogCopy c;
    c.index = i;
    c.time_ns = copy.time_ns;
    c.error_mono_ns = copy.error_mono_ns;
    c.event_sequence = copy.event_sequence;
    c.count = copy.count;
    c.agent = copy.agent;
    c.code = copy.code;
    c.topic = copy.topic;
    c.errc = copy.errc;
    c.agent_name = std::string(symbol_view(copy.agent_name));
    c.handler = std::string(symbol_view(copy.handler));
    c.text = std::string(symbol_view(copy.text));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace shmbus::detail
