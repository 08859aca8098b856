// Catalogue payloads <-> dicts and NumPy dtypes (py_fields.hpp).
#include "py_fields.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "py_errors.hpp"

namespace shmbus::py {

namespace {

std::string field_names(const catalog::CatalogEntry& entry) {
  std::string names;
  for (const FieldDesc& f : entry.fields) {
    if (f.kind == FieldKind::kReserved) continue;
    if (!names.empty()) names += ", ";
    names += f.name;
  }
  return names;
}

[[noreturn]] void bad_field(const catalog::CatalogEntry& entry, std::string_view field,
                            const std::string& why) {
  raise_error(Errc::kInvalidArgument,
              std::string(entry.topic) + "." + std::string(field) + ": " + why);
}

void store_integer(const catalog::CatalogEntry& entry, const FieldDesc& f, pyb::handle value,
                   std::byte* p) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    bad_field(entry, f.name,
              "expected an int, got " + std::string(pyb::str(value.get_type().attr("__name__"))));
  }
  const unsigned bits = static_cast<unsigned>(f.size * 8);
  if (f.kind == FieldKind::kSigned) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    const long long lo = bits >= 64 ? std::numeric_limits<long long>::min() : -(1ll << (bits - 1));
    const long long hi =
        bits >= 64 ? std::numeric_limits<long long>::max() : (1ll << (bits - 1)) - 1;
    if (overflow != 0 || v < lo || v > hi) {
      bad_field(entry, f.name,
                std::string(pyb::str(value)) + " is out of range of int" + std::to_string(bits));
    }
    std::memcpy(p, &v, f.size);  // little-endian: the low bytes
  } else {
    const unsigned long long v = PyLong_AsUnsignedLongLong(value.ptr());
    const bool bad = (v == static_cast<unsigned long long>(-1) && PyErr_Occurred() != nullptr);
    if (bad) PyErr_Clear();
    if (bad || (bits < 64 && v > ((1ull << bits) - 1))) {
      bad_field(entry, f.name,
                std::string(pyb::str(value)) + " is out of range of uint" + std::to_string(bits));
    }
    if (f.is_enum && v > f.enum_last) {  // the same range check as the CLI's
      bad_field(entry, f.name,
                "is an enum of 0.." + std::to_string(f.enum_last) + ", not " + std::to_string(v));
    }
    std::memcpy(p, &v, f.size);
  }
}

}  // namespace

const catalog::CatalogEntry* catalog_entry(std::string_view topic) noexcept {
  return catalog::find_catalog_entry(topic);
}

void encode_fields(const catalog::CatalogEntry& entry, const pyb::dict& fields,
                   std::span<std::byte> out) {
  std::memset(out.data(), 0, out.size());
  for (auto item : fields) {
    if (!pyb::isinstance<pyb::str>(item.first)) {
      raise_error(Errc::kInvalidArgument,
                  std::string(entry.topic) + ": field names are str, got " +
                      std::string(pyb::str(item.first.get_type().attr("__name__"))));
    }
    const std::string name = item.first.cast<std::string>();
    const FieldDesc* field = nullptr;
    for (const FieldDesc& f : entry.fields) {
      if (f.name == name) field = &f;
    }
    if (field == nullptr || field->kind == FieldKind::kReserved) {
      raise_error(Errc::kInvalidArgument, std::string(entry.topic) + ": unknown field '" + name +
                                              "' (fields: " + field_names(entry) + ")");
    }
    std::byte* p = out.data() + field->offset;
    pyb::handle value = item.second;
    if (field->kind == FieldKind::kText) {
      std::string text;
      if (pyb::isinstance<pyb::str>(value)) {
        text = value.cast<std::string>();
      } else if (pyb::isinstance<pyb::bytes>(value)) {
        text = std::string(value.cast<pyb::bytes>());
      } else {
        bad_field(entry, name, "expected str or bytes");
      }
      // The last byte stays NUL, as catalog::set_symbol leaves it.
      if (text.size() >= field->size) {
        bad_field(entry, name,
                  "'" + text + "' is longer than " + std::to_string(field->size - 1) + " bytes");
      }
      std::memcpy(p, text.data(), text.size());
    } else if (field->count > 1) {
      if (!pyb::isinstance<pyb::sequence>(value) || pyb::isinstance<pyb::str>(value)) {
        bad_field(entry, name, "expected a sequence of " + std::to_string(field->count) + " ints");
      }
      pyb::sequence seq = pyb::reinterpret_borrow<pyb::sequence>(value);
      if (seq.size() > field->count) {
        bad_field(entry, name,
                  std::to_string(seq.size()) + " values for " + std::to_string(field->count) +
                      " elements");
      }
      for (std::size_t i = 0; i < seq.size(); ++i) {
        store_integer(entry, *field, seq[i], p + i * field->size);
      }
    } else {
      store_integer(entry, *field, value, p);
    }
  }
}

pyb::dict decode_fields(const catalog::CatalogEntry& entry, std::span<const std::byte> payload) {
  if (payload.size() != entry.payload_size) {
    raise_error(Errc::kInvalidArgument,
                std::string(entry.topic) + ": payload of " + std::to_string(payload.size()) +
                    " bytes, the type has " + std::to_string(entry.payload_size));
  }
  pyb::dict out;
  for (const FieldDesc& f : entry.fields) {
    const std::byte* p = payload.data() + f.offset;
    auto one = [&](std::size_t i) -> pyb::object {
      const std::byte* q = p + i * f.size;
      if (f.kind == FieldKind::kSigned) {
        std::int64_t v = 0;
        std::memcpy(&v, q, f.size);
        const unsigned shift = static_cast<unsigned>(64 - f.size * 8);  // sign-extend
        if (shift != 0)
          v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << shift) >> shift;
        return pyb::int_(v);
      }
      std::uint64_t v = 0;
      std::memcpy(&v, q, f.size);
      return pyb::int_(v);
    };
    switch (f.kind) {
      case FieldKind::kReserved:
        break;
      case FieldKind::kText: {
        const char* s = reinterpret_cast<const char*>(p);
        out[pyb::str(f.name.data(), f.name.size())] = pyb::reinterpret_steal<pyb::object>(
            PyUnicode_DecodeUTF8(s, static_cast<Py_ssize_t>(strnlen(s, f.size)), "replace"));
        break;
      }
      default:
        if (f.count == 1) {
          out[pyb::str(f.name.data(), f.name.size())] = one(0);
        } else {
          pyb::list l;
          for (std::size_t i = 0; i < f.count; ++i) l.append(one(i));
          out[pyb::str(f.name.data(), f.name.size())] = l;
        }
    }
  }
  return out;
}

pyb::object numpy_dtype(const catalog::CatalogEntry& entry) {
  pyb::module_ np = pyb::module_::import("numpy");
  pyb::list names, formats, offsets;
  for (const FieldDesc& f : entry.fields) {
    names.append(pyb::str(f.name.data(), f.name.size()));
    std::string fmt;
    switch (f.kind) {
      case FieldKind::kText:
        fmt = "S" + std::to_string(f.size);
        break;
      case FieldKind::kReserved:
        fmt = "V" + std::to_string(f.size);
        break;
      case FieldKind::kSigned:
        fmt = "<i" + std::to_string(f.size);
        break;
      case FieldKind::kUnsigned:
        fmt = "<u" + std::to_string(f.size);
        break;
    }
    if (f.count > 1) fmt = "(" + std::to_string(f.count) + ",)" + fmt;
    formats.append(pyb::str(fmt));
    offsets.append(pyb::int_(f.offset));
  }
  pyb::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = pyb::int_(entry.payload_size);
  return np.attr("dtype")(spec);
}

}  // namespace shmbus::py
