// The segment's control-plane lock: a process-shared robust pthread mutex, taken
// only to register agents and topics (never on the data path). A holder that
// died is reported as EOWNERDEAD; every registration commits with one release
// store, so the next holder just marks the mutex consistent and goes on.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <string>

#include "shmbus/result.hpp"

namespace shmbus::detail {

/// Initialises a robust, process-shared mutex in place. Returns an error text, empty if ok.
std::string init_robust_mutex(pthread_mutex_t* m);

/// Scoped holder. `ok()` is false when the lock could not be taken within the timeout
/// (a corrupt mutex word must not hang a process forever).
class ControlLock {
 public:
  explicit ControlLock(pthread_mutex_t* m, std::uint64_t timeout_ns = 5'000'000'000ull);
  ~ControlLock();
  ControlLock(const ControlLock&) = delete;
  ControlLock& operator=(const ControlLock&) = delete;

  bool ok() const noexcept { return locked_; }
  /// True when the previous holder died while holding it (repaired already).
  bool recovered() const noexcept { return recovered_; }
  const std::string& error() const noexcept { return error_; }
  /// Why it was not acquired: kCorrupt when the mutex's bytes are not a robust, process-shared
  /// mutex, or its recorded owner is no thread on this host (a dead owner would have been
  /// marked by the kernel); kBusy when a live process holds it past the timeout.
  Errc error_code() const noexcept { return corrupt_ ? Errc::kCorrupt : Errc::kBusy; }

 private:
  pthread_mutex_t* m_;
  bool locked_ = false;
  bool recovered_ = false;
  bool corrupt_ = false;
  std::string error_;
};

}  // namespace shmbus::detail
