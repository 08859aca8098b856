// How a fixed-size payload struct describes its own bytes: SHMBUS_FIELDS inside the struct lists
// every member in declaration order (reserved bytes included), and SHMBUS_PAYLOAD_PIN after it
// checks at compile time that the list covers the struct byte for byte. Tools read the list
// (the CLI's JSON codec, via CatalogEntry::fields); the sys.* payloads, the trading catalogue
// and user payload types use the same machinery.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace shmbus {

/// How a field's bytes are read.
enum class FieldKind : std::uint8_t {
  kText,      ///< NUL-padded char array; `size` bytes
  kSigned,    ///< signed integer (or enum of one); `count` elements of `size` bytes
  kUnsigned,  ///< unsigned integer (or enum of one); `count` elements of `size` bytes
  kReserved,  ///< reserved bytes (a member named reserved*): never shown, never set
};

/// One member of a payload struct.
struct FieldDesc {
  std::string_view name;
  std::size_t offset = 0;
  std::size_t size = 0;   ///< bytes of one element (of the whole member for kText, kReserved)
  std::size_t count = 1;  ///< elements; > 1 for integer arrays
  FieldKind kind = FieldKind::kUnsigned;
  /// An enum (valid values 0 .. enum_last, from SHMBUS_ENUM_LAST), not a plain integer.
  bool is_enum = false;
  std::uint64_t enum_last = 0;

  /// Bytes the member occupies.
  constexpr std::size_t bytes() const noexcept {
    return kind == FieldKind::kText || kind == FieldKind::kReserved ? size : size * count;
  }
};

/// Largest built-in payload (sys.* and catalogue): the default BusConfig::max_payload_bytes, so
/// every built-in type fits a bus created with default settings (catalog_test checks the two).
inline constexpr std::size_t kMaxBuiltinPayload = 192;

namespace detail {  // not API

template <typename I>
constexpr FieldKind integer_kind() noexcept {
  if constexpr (std::is_enum_v<I>) {
    return std::is_signed_v<std::underlying_type_t<I>> ? FieldKind::kSigned : FieldKind::kUnsigned;
  } else {
    static_assert(std::is_integral_v<I>, "payload fields are integers, enums or char text");
    return std::is_signed_v<I> ? FieldKind::kSigned : FieldKind::kUnsigned;
  }
}

/// An integer field's descriptor; an enum's carries its range (SHMBUS_ENUM_LAST, found by ADL).
template <typename I>
constexpr FieldDesc integer_field(std::string_view name, std::size_t offset,
                                  std::size_t count) noexcept {
  FieldDesc f{name, offset, sizeof(I), count, integer_kind<I>()};
  if constexpr (std::is_enum_v<I>) {
    f.is_enum = true;
    f.enum_last = static_cast<std::uint64_t>(shmbus_enum_last(I{}));
  }
  return f;
}

/// The descriptor of a member of type M named `name` at `offset`.
template <typename M>
constexpr FieldDesc describe_field(std::string_view name, std::size_t offset) noexcept {
  if (name.substr(0, 8) == "reserved") {
    return FieldDesc{name, offset, sizeof(M), 1, FieldKind::kReserved};
  }
  if constexpr (std::is_array_v<M>) {
    using E = std::remove_extent_t<M>;
    if constexpr (std::is_same_v<E, char>) {
      return FieldDesc{name, offset, sizeof(M), 1, FieldKind::kText};
    } else {
      return integer_field<E>(name, offset, std::extent_v<M>);
    }
  } else {
    return integer_field<M>(name, offset, 1);
  }
}

// SHMBUS_FIELDS' loop over its member names (C++20 __VA_OPT__): each name takes one rescan, and
// the nested EXPANDs give 3^4 = 81 of them, so a struct may list up to 80 members.
#define SHMBUS_DETAIL_PARENS ()
#define SHMBUS_DETAIL_EXPAND(...) \
  SHMBUS_DETAIL_EXPAND4(SHMBUS_DETAIL_EXPAND4(SHMBUS_DETAIL_EXPAND4(__VA_ARGS__)))
#define SHMBUS_DETAIL_EXPAND4(...) \
  SHMBUS_DETAIL_EXPAND3(SHMBUS_DETAIL_EXPAND3(SHMBUS_DETAIL_EXPAND3(__VA_ARGS__)))
#define SHMBUS_DETAIL_EXPAND3(...) \
  SHMBUS_DETAIL_EXPAND2(SHMBUS_DETAIL_EXPAND2(SHMBUS_DETAIL_EXPAND2(__VA_ARGS__)))
#define SHMBUS_DETAIL_EXPAND2(...) \
  SHMBUS_DETAIL_EXPAND1(SHMBUS_DETAIL_EXPAND1(SHMBUS_DETAIL_EXPAND1(__VA_ARGS__)))
#define SHMBUS_DETAIL_EXPAND1(...) __VA_ARGS__
#define SHMBUS_DETAIL_FIELD(T, m) \
  ::shmbus::detail::describe_field<decltype(T::m)>(#m, offsetof(T, m))
#define SHMBUS_DETAIL_FIELDS_NEXT() SHMBUS_DETAIL_FIELDS_ONE
#define SHMBUS_DETAIL_FIELDS_ONE(T, m, ...) \
  SHMBUS_DETAIL_FIELD(T, m)                 \
  __VA_OPT__(, SHMBUS_DETAIL_FIELDS_NEXT SHMBUS_DETAIL_PARENS(T, __VA_ARGS__))

}  // namespace detail

/// Declares `static constexpr auto fields()` in payload struct T: the descriptors of the listed
/// members, which must be every member in declaration order (reserved ones included):
///   struct Quote { char symbol[16]; std::int64_t bid_price_e9; ...
///                  SHMBUS_FIELDS(Quote, symbol, bid_price_e9, ...); };
/// (A member function body sees the complete struct, so offsetof works there.)
#define SHMBUS_FIELDS(T, ...)                                                          \
  static constexpr auto fields() noexcept {                                            \
    return std::array{SHMBUS_DETAIL_EXPAND(SHMBUS_DETAIL_FIELDS_ONE(T, __VA_ARGS__))}; \
  }                                                                                    \
  static_assert(true, "")

/// The field list of T in static storage (T::fields() as an array that outlives any call).
template <typename T>
inline constexpr auto kFieldsOf = T::fields();

/// T's field list as a span of static storage.
template <typename T>
constexpr std::span<const FieldDesc> fields_of() noexcept {
  return kFieldsOf<T>;
}

/// True when T::fields() covers every byte of T exactly once, in order: each field starts where
/// the one before it ended and the last ends at sizeof(T).
template <typename T>
constexpr bool fields_cover_exactly() noexcept {
  std::size_t end = 0;
  for (const FieldDesc& f : T::fields()) {
    if (f.offset != end || f.bytes() == 0) return false;
    end += f.bytes();
  }
  return end == sizeof(T);
}

/// Pins a built-in payload: exact size (moving or resizing a field breaks the build), alignment
/// 8, no implicit padding (has_unique_object_representations is false when the compiler inserted
/// padding), bytewise copyable, small enough for a default-configured bus, and a field list that
/// covers it byte for byte.
#define SHMBUS_PAYLOAD_PIN(T, bytes)                                                       \
  static_assert(sizeof(T) == (bytes), #T ": size changed; bump kSchemaVersion");           \
  static_assert(alignof(T) == 8, #T ": alignment changed");                                \
  static_assert(std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>,           \
                #T ": payloads are copied bytewise into shared memory");                   \
  static_assert(std::has_unique_object_representations_v<T>, #T ": has implicit padding"); \
  static_assert(sizeof(T) <= ::shmbus::kMaxBuiltinPayload,                                 \
                #T ": larger than the default max payload");                               \
  static_assert(::shmbus::fields_cover_exactly<T>(),                                       \
                #T ": SHMBUS_FIELDS must list every member, in declaration order")

}  // namespace shmbus
