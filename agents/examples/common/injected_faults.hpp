// Faults injected into an example agent's handler, for soaks and recovery tests: every
// `every`-th call starts a burst of `burst` calls in a row that throw. A burst shorter than
// BusConfig::max_handler_failures is isolated call by call (sys.error, dead letter) and the
// handler carries on; a longer one gets the handler unsubscribed, and the agent must notice
// (sys.error kHandlerUnsubscribed about itself) and subscribe again. every == 0: no faults.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace shmbus::examples {

class InjectedFaults {
 public:
  InjectedFaults(std::uint32_t every, std::uint32_t burst) noexcept
      : every_(every), burst_(burst) {}

  /// Call at the top of the handler: throws while a burst lasts.
  void on_call() {
    if (every_ == 0) return;
    if (left_ == 0 && ++calls_ % every_ == 0) left_ = burst_;
    if (left_ == 0) return;
    --left_;
    ++thrown_;
    throw std::runtime_error("injected fault " + std::to_string(thrown_));
  }

  std::uint64_t thrown() const noexcept { return thrown_; }

 private:
  std::uint32_t every_;
  std::uint32_t burst_;
  std::uint32_t left_ = 0;
  std::uint64_t calls_ = 0;
  std::uint64_t thrown_ = 0;
};

}  // namespace shmbus::examples
