// JSON codec of event payloads (payload_json.hpp), driven by the field list each catalogue
// payload declares beside its members (SHMBUS_FIELDS, shmbus/fields.hpp) and
// CatalogEntry::fields.
#include "payload_json.hpp"

#include <cstdint>
#include <cstring>
#include <limits>

#include "shmbus/catalog.hpp"

namespace shmbus::cli {

namespace {

using nlohmann::json;

std::int64_t load_signed(const std::byte* p, std::size_t size) {
  switch (size) {
    case 1: {
      std::int8_t v;
      std::memcpy(&v, p, 1);
      return v;
    }
    case 2: {
      std::int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      std::int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      std::int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

std::uint64_t load_unsigned(const std::byte* p, std::size_t size) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, size);  // little-endian: the low `size` bytes
  return v;
}

json decode_field(const FieldDesc& f, const std::byte* base) {
  auto one = [&](std::size_t i) -> json {
    const std::byte* p = base + f.offset + i * f.size;
    if (f.kind == FieldKind::kSigned) return load_signed(p, f.size);
    return load_unsigned(p, f.size);
  };
  if (f.kind == FieldKind::kText) {
    const char* p = reinterpret_cast<const char*>(base + f.offset);
    // Never past the array, even when a writer left no NUL; invalid UTF-8 is replaced on dump.
    return std::string(p, strnlen(p, f.size));
  }
  if (f.count == 1) return one(0);
  json arr = json::array();
  for (std::size_t i = 0; i < f.count; ++i) arr.push_back(one(i));
  return arr;
}

Error bad(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

/// Stores JSON integer `v` into an element of field `f`; an error text when it does not fit.
std::string store_integer(const FieldDesc& f, const json& v, std::byte* p) {
  if (!v.is_number_integer()) return "field '" + std::string(f.name) + "' wants an integer";
  const unsigned bits = static_cast<unsigned>(f.size * 8);
  if (f.kind == FieldKind::kSigned) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX)) {
      return "field '" + std::string(f.name) + "' out of range";
    }
    const std::int64_t x = v.get<std::int64_t>();
    const std::int64_t hi = bits == 64 ? INT64_MAX : (std::int64_t{1} << (bits - 1)) - 1;
    const std::int64_t lo = bits == 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1));
    if (x < lo || x > hi) return "field '" + std::string(f.name) + "' out of range";
    std::memcpy(p, &x, f.size);  // little-endian: the low bytes carry the value
  } else {
    if (!v.is_number_unsigned()) return "field '" + std::string(f.name) + "' must be >= 0";
    const std::uint64_t x = v.get<std::uint64_t>();
    const std::uint64_t hi = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    if (x > hi) return "field '" + std::string(f.name) + "' out of range";
    if (f.is_enum && x > f.enum_last) {
      return "field '" + std::string(f.name) + "' is an enum of 0.." +
             std::to_string(f.enum_last) + ", not " + std::to_string(x);
    }
    std::memcpy(p, &x, f.size);
  }
  return {};
}

std::string store_field(const FieldDesc& f, const json& v, std::byte* base) {
  if (f.kind == FieldKind::kText) {
    if (!v.is_string()) return "field '" + std::string(f.name) + "' wants a string";
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() >= f.size) {
      return "field '" + std::string(f.name) + "' longer than " + std::to_string(f.size - 1);
    }
    std::memset(base + f.offset, 0, f.size);
    std::memcpy(base + f.offset, s.data(), s.size());
    return {};
  }
  if (f.count == 1) return store_integer(f, v, base + f.offset);
  if (!v.is_array() || v.size() > f.count) {
    return "field '" + std::string(f.name) + "' wants an array of up to " +
           std::to_string(f.count) + " integers";
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (auto e = store_integer(f, v[i], base + f.offset + i * f.size); !e.empty()) return e;
  }
  return {};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = std::to_integer<unsigned>(b);
    out.push_back(kDigits[v >> 4]);
    out.push_back(kDigits[v & 15]);
  }
  return out;
}

json decode_payload(std::string_view topic, std::span<const std::byte> payload) {
  const catalog::CatalogEntry* t = catalog::find_catalog_entry(topic);
  if (t == nullptr || payload.size() != t->payload_size) {
    return json{{"hex", to_hex(payload)}};
  }
  json out = json::object();
  for (const FieldDesc& f : t->fields) {
    if (f.kind != FieldKind::kReserved) out[std::string(f.name)] = decode_field(f, payload.data());
  }
  return out;
}

Result<std::vector<std::byte>> encode_payload(std::string_view topic, const json& j) {
  const catalog::CatalogEntry* t = catalog::find_catalog_entry(topic);
  if (t == nullptr) {
    if (j.is_string()) {
      const auto& s = j.get_ref<const std::string&>();
      const auto* p = reinterpret_cast<const std::byte*>(s.data());
      return std::vector<std::byte>(p, p + s.size());
    }
    if (!j.is_object() || j.size() != 1 || !j.contains("hex") || !j["hex"].is_string()) {
      return bad("topic " + std::string(topic) +
                 " has no catalogue type: give {\"hex\": \"...\"} or a JSON string");
    }
    const auto& hex = j["hex"].get_ref<const std::string&>();
    if (hex.size() % 2 != 0) return bad("\"hex\" has an odd number of digits");
    std::vector<std::byte> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = hex_digit(hex[2 * i]);
      const int lo = hex_digit(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return bad("\"hex\" has a non-hex character");
      out[i] = static_cast<std::byte>(hi * 16 + lo);
    }
    return out;
  }
  if (!j.is_object()) {
    return bad("topic " + std::string(topic) + " carries catalogue type " + std::string(t->topic) +
               ": give a JSON object of its fields");
  }
  std::vector<std::byte> out(t->payload_size, std::byte{0});
  for (const auto& [key, value] : j.items()) {
    const FieldDesc* field = nullptr;
    for (const FieldDesc& f : t->fields) {
      if (f.kind != FieldKind::kReserved && f.name == key) field = &f;
    }
    if (field == nullptr) {
      std::string names;
      for (const FieldDesc& f : t->fields) {
        if (f.kind == FieldKind::kReserved) continue;
        names += names.empty() ? "" : ", ";
        names += f.name;
      }
      return bad("catalogue type " + std::string(t->topic) + " has no field '" + key +
                 "' (fields: " + names + ")");
    }
    if (auto e = store_field(*field, value, out.data()); !e.empty()) return bad(e);
  }
  return out;
}

}  // namespace shmbus::cli
