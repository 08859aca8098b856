// ErrorLog: append and read of the error-log ring. The seqlock pattern of the dead-letter area
// (shm/dead_letter_area.cpp), plus a checksum so a stalled writer that was overtaken cannot
// leave a torn entry that looks committed.
#include "shm/error_log.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace shmbus::detail {

namespace {

constexpr std::size_t kWords = sizeof(ErrorLogEntry) / 8;
constexpr std::size_t kSeqWord = offsetof(ErrorLogEntry, seq) / 8;
constexpr std::size_t kChecksumWord = offsetof(ErrorLogEntry, checksum) / 8;
static_assert(sizeof(ErrorLogEntry) % 8 == 0 && alignof(ErrorLogEntry) == 8);

template <std::size_t N>
void copy_text(char (&dst)[N], const char* src, std::size_t src_cap) noexcept {
  const std::size_t n = std::min(N - 1, strnlen(src, src_cap));
  std::memcpy(dst, src, n);
  std::memset(dst + n, 0, N - n);
}

template <std::size_t N>
std::string bounded(const char (&text)[N]) {
  return std::string(text, strnlen(text, N));
}

// The data words are read while a writer may be rewriting them (the seq re-check and the
// checksum discard such copies): relaxed 8-byte atomics keep that race defined (and TSan
// quiet); on x86 they are plain moves. The seq word is skipped: it is only CASed.
void store_words(ErrorLogEntry& shared, const ErrorLogEntry& src) noexcept {
  auto* to = reinterpret_cast<std::uint64_t*>(&shared);
  const auto* from = reinterpret_cast<const std::byte*>(&src);
  for (std::size_t i = 0; i < kWords; ++i) {
    if (i == kSeqWord) continue;
    std::uint64_t w = 0;
    std::memcpy(&w, from + i * 8, 8);
    std::atomic_ref<std::uint64_t>(to[i]).store(w, std::memory_order_relaxed);
  }
}

void load_words(ErrorLogEntry& dst, const ErrorLogEntry& shared) noexcept {
  auto* from = reinterpret_cast<std::uint64_t*>(const_cast<ErrorLogEntry*>(&shared));
  auto* to = reinterpret_cast<std::byte*>(&dst);
  for (std::size_t i = 0; i < kWords; ++i) {
    if (i == kSeqWord) continue;
    const std::uint64_t w = std::atomic_ref<std::uint64_t>(from[i]).load(std::memory_order_relaxed);
    std::memcpy(to + i * 8, &w, 8);
  }
}

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
  copy_text(local.agent_name, e.agent, sizeof e.agent);
  copy_text(local.handler, e.handler, sizeof e.handler);
  copy_text(local.text, e.message, sizeof e.message);
  local.checksum = checksum(local, mine);
  store_words(shared, local);
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
    load_words(copy, shared);
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
    c.agent_name = bounded(copy.agent_name);
    c.handler = bounded(copy.handler);
    c.text = bounded(copy.text);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace shmbus::detail
