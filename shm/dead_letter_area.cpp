#include "shm/dead_letter_area.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "shm/region_sizes.hpp"

namespace shmbus::detail {

namespace {

void copy_text(char* dst, std::size_t cap, std::string_view src) noexcept {
  const std::size_t n = std::min(cap - 1, src.size());
  std::memcpy(dst, src.data(), n);
  std::memset(dst + n, 0, cap - n);
}

// The seqlock's data words are read while a writer may be rewriting them (the seq re-check
// discards such copies). Copying them as relaxed 8-byte atomics keeps that race defined C++
// (and TSan quiet); on x86 these are plain moves. `shared` is 8-byte aligned; the area behind
// it is a whole number of words (entries and payload areas are multiples of 64 bytes).
void store_words(std::byte* shared, const std::byte* src, std::size_t bytes) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(shared);
  for (std::size_t i = 0; i < bytes; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, src + i, std::min<std::size_t>(8, bytes - i));
    std::atomic_ref<std::uint64_t>(words[i / 8]).store(w, std::memory_order_relaxed);
  }
}

void load_words(std::byte* dst, const std::byte* shared, std::size_t bytes) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(shared));
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t w =
        std::atomic_ref<std::uint64_t>(words[i / 8]).load(std::memory_order_relaxed);
    std::memcpy(dst + i, &w, std::min<std::size_t>(8, bytes - i));
  }
}

constexpr std::size_t kSeqBytes = sizeof(std::uint64_t);  // DeadLetterEntry::seq, first word

}  // namespace

// Geometry comes from the validated segment config, never from the area's own header bytes.
DeadLetterArea::DeadLetterArea(const Segment& segment) noexcept
    : header_(
          reinterpret_cast<DeadLetterHeader*>(segment.region(segment.plan().dead_letters_offset))),
      entries_(segment.region(segment.plan().dead_letters_offset) + sizeof(DeadLetterHeader)),
      capacity_(segment.config().dead_letter_capacity),
      stride_(dead_letter_entry_bytes(segment.config())),
      max_payload_(segment.config().max_payload_bytes) {}

std::uint64_t DeadLetterArea::written() const noexcept {
  return header_->head.load(std::memory_order_acquire);
}

std::uint64_t DeadLetterArea::dropped() const noexcept {
  return header_->dropped.load(std::memory_order_relaxed);
}

bool DeadLetterArea::write(const DeadLetterRecord& rec) noexcept {
  if (capacity_ == 0 || rec.event == nullptr) return false;
  const std::uint64_t index = header_->head.fetch_add(1, std::memory_order_acq_rel);
  DeadLetterEntry& e = entry(index);
  const std::uint64_t mine = index + 1;
  std::uint64_t old = e.seq.load(std::memory_order_acquire);
  for (;;) {
    const std::uint64_t old_index = old & ~kDeadLetterWriting;  // index+1 of the holder
    if (old_index >= mine) {  // a newer letter already holds the entry: ours is the oldest
      header_->dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Another writer is filling it: give up (counted). Never take the entry over: a writer
    // that is only slow (preempted, stopped) would finish its stores over ours after our
    // commit. A writer that died mid-write costs this entry's letters, one per lap, counted.
    if ((old & kDeadLetterWriting) != 0) {
      header_->dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (e.seq.compare_exchange_weak(old, mine | kDeadLetterWriting, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      break;
    }
  }
  // Overwriting a committed older letter drops it (the oldest goes first).
  if (old != 0 && (old & kDeadLetterWriting) == 0) {
    header_->dropped.fetch_add(1, std::memory_order_relaxed);
  }
  // Our data stores stay after the writing mark (a reader that copies them sees the mark on
  // its re-check).
  std::atomic_thread_fence(std::memory_order_release);
  const SlotHeader& h = *rec.event;
  const std::uint32_t len = std::min(rec.length, max_payload_);
  // Build the entry head privately, then copy it in word by word (seq excluded).
  alignas(kCacheLine) std::byte raw[sizeof(DeadLetterEntry)] = {};
  auto& l = *reinterpret_cast<DeadLetterEntry*>(raw);
  l.timestamp_ns = h.timestamp_ns;
  l.producer_seq = h.producer_seq;
  l.failed_ns = rec.failed_ns;
  l.topic_id = h.topic_id;
  l.producer = h.producer;
  l.producer_epoch = h.producer_epoch;
  l.length = len;
  l.failing_agent = rec.failing_agent;
  l.flags = h.flags;
  l.schema_version = h.schema_version;
  l.priority = rec.priority;
  copy_text(l.handler, sizeof l.handler, rec.handler);
  copy_text(l.reason, sizeof l.reason, rec.reason);
  auto* shared = reinterpret_cast<std::byte*>(&e);
  store_words(shared + kSeqBytes, raw + kSeqBytes, sizeof(DeadLetterEntry) - kSeqBytes);
  if (len != 0) store_words(shared + sizeof(DeadLetterEntry), rec.payload, len);
  // Commit with release. Nobody takes a marked entry over, so the CAS only guards against a
  // corrupt segment.
  std::uint64_t expected = mine | kDeadLetterWriting;
  if (!e.seq.compare_exchange_strong(expected, mine, std::memory_order_release,
                                     std::memory_order_relaxed)) {
    header_->dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::vector<DeadLetterCopy> DeadLetterArea::read() const {
  std::vector<DeadLetterCopy> out;
  if (capacity_ == 0) return out;
  const std::uint64_t head = header_->head.load(std::memory_order_acquire);
  const std::uint64_t first = head > capacity_ ? head - capacity_ : 0;
  out.reserve(static_cast<std::size_t>(head - first));
  for (std::uint64_t i = first; i < head; ++i) {
    const DeadLetterEntry& e = entry(i);
    const std::uint64_t s = e.seq.load(std::memory_order_acquire);
    if (s != i + 1) continue;  // not committed yet, being rewritten, or already overwritten
    alignas(kCacheLine) std::byte raw[sizeof(DeadLetterEntry)] = {};
    const auto* shared = reinterpret_cast<const std::byte*>(&e);
    load_words(raw + kSeqBytes, shared + kSeqBytes, sizeof(DeadLetterEntry) - kSeqBytes);
    const auto& copy = *reinterpret_cast<const DeadLetterEntry*>(raw);
    DeadLetterCopy c;
    const std::uint32_t len = std::min(copy.length, max_payload_);  // segment bytes are input
    c.payload.resize(len);
    if (len != 0) load_words(c.payload.data(), shared + sizeof(DeadLetterEntry), len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(std::memory_order_relaxed) != s) continue;  // overwritten while copied
    c.index = i;
    c.timestamp_ns = copy.timestamp_ns;
    c.producer_seq = copy.producer_seq;
    c.failed_ns = copy.failed_ns;
    c.topic_id = copy.topic_id;
    c.producer = copy.producer;
    c.producer_epoch = copy.producer_epoch;
    c.failing_agent = copy.failing_agent;
    c.flags = copy.flags;
    c.schema_version = copy.schema_version;
    c.priority = copy.priority;
    c.handler.assign(copy.handler, strnlen(copy.handler, sizeof copy.handler));
    c.reason.assign(copy.reason, strnlen(copy.reason, sizeof copy.reason));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace shmbus::detail
