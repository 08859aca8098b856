#include "shm/control_mutex.hpp"

#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

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

namespace {
// The kind word init_robust_mutex writes (robust, process-shared), read off a mutex made the
// same way. A control mutex of another kind is damage: glibc would assert or misbehave on it.
int expected_kind() {
  static const int kind = [] {
    pthread_mutex_t probe;
    if (!init_robust_mutex(&probe).empty()) return -1;
    const int k = probe.__data.__kind;
    pthread_mutex_destroy(&probe);
    return k;
  }();
  return kind;
}

// The owner's thread id recorded in the lock word, 0 when unlocked. glibc keeps it in
// __owner; the kernel's robust-futex word (__lock) holds it too, with FUTEX_OWNER_DIED.
bool owner_exists(const pthread_mutex_t* m) {
  const int tid = m->__data.__lock & 0x3FFFFFFF;  // FUTEX_TID_MASK
  if (tid == 0) return true;                      // unlocked now: not corrupt, just raced
  return ::kill(tid, 0) == 0 || errno == EPERM;
}
}  // namespace

ControlLock::ControlLock(pthread_mutex_t* m, std::uint64_t timeout_ns) : m_(m) {
  if (m_->__data.__kind != expected_kind()) {
    corrupt_ = true;
    error_ = "control mutex corrupt (kind " + std::to_string(m_->__data.__kind) +
             ", not a robust process-shared mutex)";
    return;
  }
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
  } else if (rc == ETIMEDOUT && owner_exists(m_)) {
    error_ = "control mutex not acquired within the timeout (held by a stalled process)";
  } else if (rc == ETIMEDOUT) {
    corrupt_ = true;
    error_ = "control mutex corrupt (its recorded owner, thread " +
             std::to_string(m_->__data.__lock & 0x3FFFFFFF) + ", does not exist)";
  } else {
    corrupt_ = rc == EINVAL || rc == ENOTRECOVERABLE;
    error_ = std::string("control mutex: ") + std::strerror(rc);
  }
}

ControlLock::~ControlLock() {
  if (locked_) pthread_mutex_unlock(m_);
}

}  // namespace shmbus::detail
