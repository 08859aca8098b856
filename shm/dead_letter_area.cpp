#include "shm/dead_letter_area.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "shm/region_sizes.hpp"
#include "shm/shared_words.hpp"
#include "shmbus/fixed_text.hpp"

namespace shmbus::detail {

namespace {

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
  set_symbol(l.handler, rec.handler);
  set_symbol(l.reason, rec.reason);
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
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(head, capacity_)));
  // Each entry is read for the letter it holds, not for the one the last `capacity` claims
  // would put there: a writer that gave up (the entry was being filled by an older, slow
  // writer) leaves that older letter in place, kept and not counted as dropped.
  for (std::uint32_t slot = 0; slot < capacity_; ++slot) {
    const DeadLetterEntry& e = entry(slot);
    const std::uint64_t s = e.seq.load(std::memory_order_acquire);
    // Free, being written, or not a letter this entry can hold (segment bytes are input).
    if (s == 0 || (s & kDeadLetterWriting) != 0 || s > head || (s - 1) % capacity_ != slot) {
      continue;
    }
    const std::uint64_t i = s - 1;
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
    c.handler = symbol_view(copy.handler);
    c.reason = symbol_view(copy.reason);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const DeadLetterCopy& a, const DeadLetterCopy& b) { return a.index < b.index; });
  return out;
}

}  // namespace shmbus::detail
