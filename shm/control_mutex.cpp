#include "shm/control_mutex.hpp"

#include <time.h>

#include <cerrno>
#include <cstring>

namespace shmbus::detail {

std::string init_robust_mutex(pthread_mutex_t* m) {
  pthread_mutexattr_t attr;
  if (int rc = pthread_mutexattr_init(&attr); rc != 0) return std::strerror(rc);
  std::string err;
  if (int rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED); rc != 0) {
    err = std::string("setpshared: ") + std::strerror(rc);
  } else if (int rc2 = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST); rc2 != 0) {
    err = std::string("setrobust: ") + std::strerror(rc2);
  } else if (int rc3 = pthread_mutex_init(m, &attr); rc3 != 0) {
    err = std::string("mutex_init: ") + std::strerror(rc3);
  }
  pthread_mutexattr_destroy(&attr);
  return err;
}

ControlLock::ControlLock(pthread_mutex_t* m, std::uint64_t timeout_ns) : m_(m) {
  // timedlock (CLOCK_REALTIME) rather than clocklock: ThreadSanitizer intercepts it, so the
  // lock is visible to it. A wall-clock jump only lengthens or shortens this bounded wait.
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += static_cast<time_t>(timeout_ns / 1'000'000'000ull);
  deadline.tv_nsec += static_cast<long>(timeout_ns % 1'000'000'000ull);
  if (deadline.tv_nsec >= 1'000'000'000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000L;
  }
  int rc = pthread_mutex_timedlock(m_, &deadline);
  if (rc == EOWNERDEAD) {
    // The holder died mid-registration; its half-done work is invisible (not committed).
    pthread_mutex_consistent(m_);
    recovered_ = true;
    rc = 0;
  }
  if (rc == 0) {
    locked_ = true;
  } else if (rc == ETIMEDOUT) {
    error_ =
        "control mutex not acquired within the timeout (held by a stalled process, or corrupt)";
  } else {
    error_ = std::string("control mutex: ") + std::strerror(rc);
  }
}

ControlLock::~ControlLock() {
  if (locked_) pthread_mutex_unlock(m_);
}

}  // namespace shmbus::detail
