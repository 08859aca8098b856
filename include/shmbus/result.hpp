// Error codes and the expected-like Result<T> returned by every cold-path call
// (create, attach, register, configure). Hot paths return status enums instead.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "shmbus/enum_range.hpp"

namespace shmbus {

/// What went wrong on a cold path. The accompanying message names the culprit.
enum class Errc : std::uint8_t {
  kOk = 0,
  kInvalidArgument,   ///< a name, size or option is out of range or malformed
  kNotFound,          ///< no bus / topic / agent / barrier of that name
  kAlreadyExists,     ///< a bus or live agent of that name already exists
  kVersionMismatch,   ///< segment of another layout version or layout hash
  kCorrupt,           ///< segment bytes fail validation (magic, ranges, config)
  kCapacityExceeded,  ///< more agents / topics / barriers than configured
  kTooLarge,          ///< payload larger than a slot
  kNotReady,          ///< segment still being initialised by its creator
  kPermission,        ///< the OS refused access
  kSystem,            ///< any other OS error (errno in the message)
  kBusy,              ///< another process holds what was asked for (e.g. supervisor)
  kTimeout,           ///< a wait ran past its deadline
  kState,             ///< call not valid in the object's current state
};
SHMBUS_ENUM_LAST(Errc, kState);

/// Short stable name of an error code ("not_found", ...), for logs and JSON.
const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::kOk;
  std::string message;
};

/// Result<T>: a T or an Error. `Result<void>` carries only success or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Errc code() const noexcept { return ok() ? Errc::kOk : std::get<1>(v_).code; }
  const std::string& message() const {
    static const std::string kEmpty;
    return ok() ? kEmpty : std::get<1>(v_).message;
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return error_.code == Errc::kOk; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return error_; }
  Errc code() const noexcept { return error_.code; }
  const std::string& message() const { return error_.message; }

 private:
  Error error_;
};

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace shmbus
