// Python exceptions of the shmbus module: shmbus.Error carries the C++ Errc as `code` (its stable
// name, errc_name) and `errc` (the number), and the C++ message unchanged. Timeouts raise
// shmbus.TimeoutError, which is also a builtins.TimeoutError. Used by every binding file.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "shmbus/event.hpp"
#include "shmbus/result.hpp"

namespace shmbus::py {

namespace pyb = pybind11;

/// Creates shmbus._shmbus.Error and TimeoutError in `m`. Called once at import.
void register_errors(pyb::module_& m);

/// Raises the Python exception of `code` with `message` (throws pybind11::error_already_set).
[[noreturn]] void raise_error(Errc code, const std::string& message);

/// Raises when a publish outcome is a caller error (too large, unknown topic, closed, wrong
/// size); returns for kOk and the back-pressure outcomes (full, timeout, shed, rate-limited,
/// aborted), which publish reports as its return value.
void raise_if_misuse(PublishStatus status, std::string_view topic, std::size_t size);

template <typename T>
T unwrap(Result<T>&& r) {
  if (!r) raise_error(r.code(), r.message());
  return std::move(r).value();
}
inline void unwrap(Result<void>&& r) {
  if (!r) raise_error(r.code(), r.message());
}

}  // namespace shmbus::py
