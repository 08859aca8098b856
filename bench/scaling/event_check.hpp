// What every subscriber of shmbus-scaling-bench checks in its handlers: each
// event has the run's payload size, and each producer's sequence numbers arrive
// once each and in order. Handlers must not throw (the bus catches, counts and
// eventually unsubscribes a throwing handler), so a failed check is recorded in
// a FirstError that the subscriber's loop turns into an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "event_header.hpp"
#include "shmbus/event.hpp"

namespace shmbus::bench::scaling {

/// The first check that failed in this process, if any.
class FirstError {
 public:
  void set(std::string text) {
    if (text_.empty()) text_ = std::move(text);
  }
  bool ok() const noexcept { return text_.empty(); }
  void throw_if_set() const {
    if (!text_.empty()) throw std::runtime_error(text_);
  }

 private:
  std::string text_;
};

/// Copies the header out of `event`; false (and `error` set) when the size is not the run's.
inline bool read_event(const EventView& event, std::size_t payload_bytes, EventHeader& out,
                       FirstError& error) {
  if (event.payload.size() != payload_bytes) [[unlikely]] {
    error.set("event of " + std::to_string(event.payload.size()) + " B on " +
              std::string(event.topic_name) + ", expected " + std::to_string(payload_bytes) + " B");
    return false;
  }
  std::memcpy(&out, event.payload.data(), sizeof out);
  return true;
}

/// One producer's stream as one subscriber sees it: 0, 1, 2, ... each exactly once.
class StreamCheck {
 public:
  /// False (and `error` set) when `seq` is not the next one: lost, duplicated or reordered.
  bool accept(std::uint64_t seq, std::string_view stream, FirstError& error) {
    if (seq != next_) [[unlikely]] {
      error.set(std::string(stream) + ": expected event " + std::to_string(next_) + ", got " +
                std::to_string(seq) + " (lost, duplicated or reordered)");
      return false;
    }
    ++next_;
    return true;
  }
  /// Events accepted so far = the next sequence number expected.
  std::uint64_t next() const noexcept { return next_; }

 private:
  std::uint64_t next_ = 0;
};

}  // namespace shmbus::bench::scaling
