// shmbus.DurableSubscriber: a named journal reader whose checkpoint (and the handler's own
// state) survives a crash (shmbus/journal_durable.hpp), in journal-follow or live mode. Each
// delivery is a dict like JournalReader's records plus `redelivered`, `live` and
// `ring_position`. poll() waits without the GIL and runs the handler with it.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "shmbus/journal_durable.hpp"

namespace shmbus::py {

namespace pyb = pybind11;

/// One thread at a time (a call from another thread while poll() waits raises state).
class PyDurableSubscriber {
 public:
  explicit PyDurableSubscriber(const journal::DurableOptions& options);

  /// Hands up to `max_events` deliveries to `handler`, waiting up to `timeout_s` for the
  /// first. A handler that raises ends the poll and its exception propagates; the event it
  /// raised on was handed out (checkpoint before it to have it again after a restart).
  std::size_t poll(pyb::object handler, std::size_t max_events, double timeout_s);
  void store_checkpoint(std::uint64_t event_id, pyb::bytes state);
  void checkpoint_handed_out(pyb::bytes state);
  void close();
  bool closed() const noexcept { return !sub_.has_value(); }

  journal::DurableSubscriber& sub();  ///< raises state when closed or busy

 private:
  std::optional<journal::DurableSubscriber> sub_;
  bool busy_ = false;  // poll() is waiting without the GIL
};

/// Registers DurableSubscriber in `m`.
void register_durable(pyb::module_& m);

}  // namespace shmbus::py
