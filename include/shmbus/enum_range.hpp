// The valid range of an enum carried in a payload: 0 .. its last enumerator, declared next to
// the enum with SHMBUS_ENUM_LAST. Field lists (fields.hpp) carry it, so the CLI and the Python
// module refuse an out-of-range value ({"side": 99}) instead of publishing it; an enum used in
// a payload without one does not compile.
#pragma once

/// Declares that enum E's valid values are 0 .. E::last (found by argument-dependent lookup).
#define SHMBUS_ENUM_LAST(E, last)            \
  constexpr E shmbus_enum_last(E) noexcept { \
    return E::last;                          \
  }                                          \
  static_assert(static_cast<unsigned>(E::last) < 256u, #E ": payload enums are one byte")
