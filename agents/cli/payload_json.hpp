// Payloads as JSON for `shmbus tail` and `shmbus publish`: catalogue types (matched by topic as
// catalog::find_catalog_entry does, "md.quote.ESZ6" -> Quote) as objects of named fields; other
// payloads as {"hex": "..."} (or a JSON string of raw bytes when publishing).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "shmbus/result.hpp"

namespace shmbus::cli {

/// The payload of an event on `topic` as JSON: the catalogue struct's fields when the topic maps
/// to a catalogue type and the size matches, else {"hex": "..."}.
nlohmann::json decode_payload(std::string_view topic, std::span<const std::byte> payload);

/// Bytes to publish on `topic` from JSON. Catalogue topics: an object of field names (missing
/// fields are zero; unknown names, wrong types and out-of-range values are errors). Other
/// topics: {"hex": "..."} or a JSON string (its bytes). Errors: kInvalidArgument naming the
/// culprit.
Result<std::vector<std::byte>> encode_payload(std::string_view topic, const nlohmann::json& json);

/// Lower-case hex of `bytes`.
std::string to_hex(std::span<const std::byte> bytes);

}  // namespace shmbus::cli
