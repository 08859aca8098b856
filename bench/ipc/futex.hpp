// Thin wrappers over the futex system call for words in memory shared between
// processes (so never FUTEX_PRIVATE_FLAG). Used by the futex-based transports.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace shmbus::bench {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word must be exactly 32 bits");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "lock-free means address-free, so usable across processes");

/// Sleeps while `*word == expected`; returns early on wake-up, EAGAIN or a signal.
inline void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT, expected, nullptr, nullptr,
          0);
}

/// Wakes up to `count` waiters on `word`.
inline void futex_wake(std::atomic<std::uint32_t>* word, int count) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, count, nullptr, nullptr,
          0);
}

}  // namespace shmbus::bench
