// Field tables of the catalogue payloads (catalog.hpp): what the CLI's JSON codec needs to turn
// a payload into named fields and back. One table per catalogue type, in catalog() order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "shmbus/catalog.hpp"

namespace shmbus::cli {

enum class FieldKind : std::uint8_t {
  kText,      ///< NUL-padded char array; `size` bytes
  kSigned,    ///< signed integer (or enum of one); `count` elements of `size` bytes
  kUnsigned,  ///< unsigned integer (or enum of one); `count` elements of `size` bytes
  kReserved,  ///< reserved bytes: never shown, never set
};

struct FieldDesc {
  std::string_view name;
  std::size_t offset = 0;
  std::size_t size = 0;   ///< bytes of one element (of the whole array for kText)
  std::size_t count = 1;  ///< elements; > 1 for integer arrays (JSON arrays)
  FieldKind kind = FieldKind::kUnsigned;
};

struct CatalogFields {
  std::string_view topic;  ///< the type's catalogue topic (T::kTopic)
  std::size_t size = 0;    ///< sizeof(T)
  std::span<const FieldDesc> fields;
};

template <typename I>
constexpr FieldKind integer_kind() {
  if constexpr (std::is_enum_v<I>) {
    return std::is_signed_v<std::underlying_type_t<I>> ? FieldKind::kSigned : FieldKind::kUnsigned;
  } else {
    static_assert(std::is_integral_v<I>, "catalogue fields are integers, enums or text");
    return std::is_signed_v<I> ? FieldKind::kSigned : FieldKind::kUnsigned;
  }
}

template <typename M>
constexpr FieldDesc describe_field(std::string_view name, std::size_t offset) {
  if constexpr (std::is_array_v<M>) {
    using E = std::remove_extent_t<M>;
    if constexpr (std::is_same_v<E, char>) {
      return FieldDesc{name, offset, sizeof(M), 1, FieldKind::kText};
    } else {
      return FieldDesc{name, offset, sizeof(E), std::extent_v<M>, integer_kind<E>()};
    }
  } else {
    return FieldDesc{name, offset, sizeof(M), 1, integer_kind<M>()};
  }
}

constexpr FieldDesc reserved_field(std::size_t offset, std::size_t size) {
  return FieldDesc{"reserved", offset, size, 1, FieldKind::kReserved};
}

/// Every table, in catalog() order.
std::span<const CatalogFields> catalog_field_tables() noexcept;
/// The table of the catalogue type whose kTopic is `catalog_topic` (exact); nullptr when none.
const CatalogFields* catalog_fields(std::string_view catalog_topic) noexcept;

}  // namespace shmbus::cli
