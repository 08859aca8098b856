// Catalogue payloads in Python, from the same field lists the CLI's JSON codec reads
// (SHMBUS_FIELDS, CatalogEntry::fields): a dict encoded into payload bytes, payload bytes
// decoded into a dict, and the NumPy structured dtype of a payload type.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>
#include <string_view>

#include "shmbus/catalog.hpp"

namespace shmbus::py {

namespace pyb = pybind11;

/// The catalogue entry of `topic` ("md.quote.ESZ6" finds md.quote); nullptr when none.
const catalog::CatalogEntry* catalog_entry(std::string_view topic) noexcept;

/// Fills `out` (entry.payload_size bytes, zeroed first) from `fields`: every key must name a
/// field of the entry (not a reserved one); text must fit, integers their range, arrays their
/// length. Missing fields stay zero. Raises shmbus.Error (invalid_argument) naming the culprit.
void encode_fields(const catalog::CatalogEntry& entry, const pyb::dict& fields,
                   std::span<std::byte> out);

/// The payload's fields as a dict (text as str, integers as int, integer arrays as lists;
/// reserved bytes left out).
pyb::dict decode_fields(const catalog::CatalogEntry& entry, std::span<const std::byte> payload);

/// numpy.dtype of the entry: a structured dtype with the field names, offsets and itemsize of
/// the C++ struct (text as S<n>, integers as <i/<u, arrays as sub-arrays, reserved as V<n>).
pyb::object numpy_dtype(const catalog::CatalogEntry& entry);

}  // namespace shmbus::py
