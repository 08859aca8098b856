// Claim: a ring slot held for building one event in place (zero-copy publish). Obtained
// from Bus::claim, filled through data(), then committed or cancelled through the Bus. Its own
// header so the library's publisher can name it without the Bus facade.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "shmbus/event.hpp"

namespace shmbus {

namespace detail {
class Publisher;
}  // namespace detail

/// A slot claimed for building an event in place. Obtain with Bus::claim, fill `data()`,
/// then Bus::commit or Bus::cancel. Destroying an uncommitted claim cancels it.
class Claim {
 public:
  Claim() = default;
  Claim(Claim&& other) noexcept;
  Claim& operator=(Claim&& other) noexcept;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  ~Claim();

  /// kOk when a slot is held; otherwise why none could be claimed.
  PublishStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == PublishStatus::kOk && data_ != nullptr; }
  /// Writable payload area of exactly the claimed size.
  std::span<std::byte> data() const noexcept { return {data_, size_}; }

 private:
  friend class detail::Publisher;
  detail::Publisher* owner_ = nullptr;
  std::byte* data_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t ring_ = 0;
  std::uint64_t position_ = 0;
  std::uint64_t expected_seq_ = 0;
  PublishStatus status_ = PublishStatus::kClosed;
};

}  // namespace shmbus
