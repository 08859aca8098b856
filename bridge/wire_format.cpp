// Binary and JSON encodings of a bridged event (docs/bridge.md).
#include "bridge/wire_format.hpp"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

namespace shmbus::bridge::detail {

namespace {

// Header layout, little-endian (x86-64 and aarch64 hosts are; the values are stored byte by
// byte anyway, so a big-endian host would still write the same bytes).
//  0 u32 magic   4 u16 version   6 u8 priority   7 u8 reserved
//  8 u16 event flags   10 u16 schema version   12 u32 topic payload size
// 16 u32 producer   20 u32 producer epoch   24 u64 producer seq   32 u64 publish realtime ns
// 40 u8 host len   41 u8 bus len   42 u8 topic len   43 u8 reserved   44 u32 payload len
// 48 u64 reserved (0)
// 56 host, bus, topic, payload
template <typename T>
void put(std::byte* p, T v) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<std::byte>(static_cast<std::uint64_t>(v) >> (8 * i));
  }
}
template <typename T>
T get(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= std::uint64_t(std::to_integer<std::uint8_t>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

std::string hex(std::span<const std::byte> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.resize(b.size() * 2);
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto v = std::to_integer<unsigned>(b[i]);
    s[2 * i] = kDigits[v >> 4];
    s[2 * i + 1] = kDigits[v & 15];
  }
  return s;
}

int unhex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

DecodeStatus decode_json(std::span<const std::byte> msg, WireEvent& out, std::string& scratch) {
  const auto j =
      nlohmann::json::parse(reinterpret_cast<const char*>(msg.data()),
                            reinterpret_cast<const char*>(msg.data()) + msg.size(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DecodeStatus::kMalformed;
  try {
    if (j.at("magic").get<std::string>() != "shmbus") return DecodeStatus::kBadMagic;
    if (j.at("v").get<unsigned>() != kWireVersion) return DecodeStatus::kBadVersion;
    Priority p{};
    if (!parse_priority(j.at("priority").get<std::string>(), p)) return DecodeStatus::kMalformed;
    out.priority = p;
    out.event_flags = j.at("flags").get<std::uint16_t>();
    out.schema_version = j.at("schema").get<std::uint16_t>();
    out.topic_payload_size = j.at("topic_size").get<std::uint32_t>();
    out.producer = j.at("producer").get<std::uint32_t>();
    out.producer_epoch = j.at("epoch").get<std::uint32_t>();
    out.producer_seq = j.at("seq").get<std::uint64_t>();
    out.publish_realtime_ns = j.at("ts_ns").get<std::uint64_t>();
    const auto host = j.at("host").get<std::string>();
    const auto bus = j.at("bus").get<std::string>();
    const auto topic = j.at("topic").get<std::string>();
    const auto payload = j.at("payload_hex").get<std::string>();
    if (payload.size() % 2 != 0) return DecodeStatus::kMalformed;
    scratch.clear();
    scratch.reserve(host.size() + bus.size() + topic.size() + payload.size() / 2);
    scratch.append(host).append(bus).append(topic);
    for (std::size_t i = 0; i < payload.size(); i += 2) {
      const int hi = unhex(payload[i]), lo = unhex(payload[i + 1]);
      if (hi < 0 || lo < 0) return DecodeStatus::kMalformed;
      scratch.push_back(static_cast<char>(hi * 16 + lo));
    }
    const char* base = scratch.data();
    out.host = std::string_view(base, host.size());
    out.bus = std::string_view(base + host.size(), bus.size());
    out.topic = std::string_view(base + host.size() + bus.size(), topic.size());
    const std::size_t off = host.size() + bus.size() + topic.size();
    out.payload = std::span<const std::byte>(reinterpret_cast<const std::byte*>(base + off),
                                             scratch.size() - off);
  } catch (const nlohmann::json::exception&) {
    return DecodeStatus::kMalformed;
  }
  return DecodeStatus::kOk;
}

}  // namespace

const char* decode_status_name(DecodeStatus s) noexcept {
  switch (s) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kBadMagic:
      return "not a shmbus message (bad magic)";
    case DecodeStatus::kBadVersion:
      return "unknown wire schema version";
    case DecodeStatus::kTruncated:
      return "truncated message";
    case DecodeStatus::kMalformed:
      return "malformed message";
  }
  return "?";
}

std::size_t binary_size(const WireEvent& e) noexcept {
  return kWireHeaderBytes + e.host.size() + e.bus.size() + e.topic.size() + e.payload.size();
}

std::size_t encode_binary(const WireEvent& e, std::span<std::byte> out) noexcept {
  if (e.host.size() > kMaxName || e.bus.size() > kMaxName || e.topic.size() > kMaxName) return 0;
  const std::size_t n = binary_size(e);
  if (out.size() < n) return 0;
  std::byte* p = out.data();
  put<std::uint32_t>(p + 0, kWireMagic);
  put<std::uint16_t>(p + 4, kWireVersion);
  put<std::uint8_t>(p + 6, static_cast<std::uint8_t>(e.priority));
  put<std::uint8_t>(p + 7, 0);
  put<std::uint16_t>(p + 8, e.event_flags);
  put<std::uint16_t>(p + 10, e.schema_version);
  put<std::uint32_t>(p + 12, e.topic_payload_size);
  put<std::uint32_t>(p + 16, e.producer);
  put<std::uint32_t>(p + 20, e.producer_epoch);
  put<std::uint64_t>(p + 24, e.producer_seq);
  put<std::uint64_t>(p + 32, e.publish_realtime_ns);
  put<std::uint8_t>(p + 40, static_cast<std::uint8_t>(e.host.size()));
  put<std::uint8_t>(p + 41, static_cast<std::uint8_t>(e.bus.size()));
  put<std::uint8_t>(p + 42, static_cast<std::uint8_t>(e.topic.size()));
  put<std::uint8_t>(p + 43, 0);
  put<std::uint32_t>(p + 44, static_cast<std::uint32_t>(e.payload.size()));
  put<std::uint64_t>(p + 48, 0);
  std::byte* q = p + kWireHeaderBytes;
  std::memcpy(q, e.host.data(), e.host.size());
  q += e.host.size();
  std::memcpy(q, e.bus.data(), e.bus.size());
  q += e.bus.size();
  std::memcpy(q, e.topic.data(), e.topic.size());
  q += e.topic.size();
  if (!e.payload.empty()) std::memcpy(q, e.payload.data(), e.payload.size());
  return n;
}

std::string encode_json(const WireEvent& e) {
  nlohmann::json j = {{"magic", "shmbus"},
                      {"v", kWireVersion},
                      {"priority", std::string(priority_name(e.priority))},
                      {"flags", e.event_flags},
                      {"schema", e.schema_version},
                      {"topic_size", e.topic_payload_size},
                      {"producer", e.producer},
                      {"epoch", e.producer_epoch},
                      {"seq", e.producer_seq},
                      {"ts_ns", e.publish_realtime_ns},
                      {"host", std::string(e.host)},
                      {"bus", std::string(e.bus)},
                      {"topic", std::string(e.topic)},
                      {"payload_hex", hex(e.payload)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// Version 1 after its magic and version were checked.
DecodeStatus decode_single(std::span<const std::byte> msg, WireEvent& out) noexcept {
  if (msg.size() < kWireHeaderBytes) return DecodeStatus::kTruncated;
  const std::byte* p = msg.data();
  const auto prio = get<std::uint8_t>(p + 6);
  if (prio >= kPriorityCount) return DecodeStatus::kMalformed;
  out.priority = static_cast<Priority>(prio);
  out.event_flags = get<std::uint16_t>(p + 8);
  out.schema_version = get<std::uint16_t>(p + 10);
  out.topic_payload_size = get<std::uint32_t>(p + 12);
  out.producer = get<std::uint32_t>(p + 16);
  out.producer_epoch = get<std::uint32_t>(p + 20);
  out.producer_seq = get<std::uint64_t>(p + 24);
  out.publish_realtime_ns = get<std::uint64_t>(p + 32);
  const std::size_t hl = get<std::uint8_t>(p + 40), bl = get<std::uint8_t>(p + 41),
                    tl = get<std::uint8_t>(p + 42);
  const std::size_t pl = get<std::uint32_t>(p + 44);
  if (kWireHeaderBytes + hl + bl + tl + pl != msg.size()) return DecodeStatus::kTruncated;
  const char* c = reinterpret_cast<const char*>(p + kWireHeaderBytes);
  out.host = std::string_view(c, hl);
  out.bus = std::string_view(c + hl, bl);
  out.topic = std::string_view(c + hl + bl, tl);
  out.payload = msg.subspan(kWireHeaderBytes + hl + bl + tl, pl);
  return DecodeStatus::kOk;
}

// Batch frame (version 2): header, names, `count` records. Layout in docs/bridge.md.
//  0 u32 magic   4 u16 version (2)   6 u16 event count (>= 1)   8 u32 topic payload size
// 12 u8 host len   13 u8 bus len   14 u8 topic len   15 u8 reserved   16 u64 reserved (0)
// 24 host, bus, topic, then per event:
//  0 u8 priority   1 u8 reserved   2 u16 event flags   4 u16 schema version   6 u16 reserved
//  8 u32 producer   12 u32 producer epoch   16 u64 producer seq   24 u64 publish realtime ns
// 32 u32 payload len   36 payload
// Durable batch frame (version 3): as version 2, with the origin bus's incarnation at 16, and
// records of 44 bytes: 32 u64 ring position   40 u32 payload len   44 payload.
void read_record(const std::byte* r, WireEvent& out) noexcept {
  out.priority = static_cast<Priority>(get<std::uint8_t>(r + 0));
  out.event_flags = get<std::uint16_t>(r + 2);
  out.schema_version = get<std::uint16_t>(r + 4);
  out.producer = get<std::uint32_t>(r + 8);
  out.producer_epoch = get<std::uint32_t>(r + 12);
  out.producer_seq = get<std::uint64_t>(r + 16);
  out.publish_realtime_ns = get<std::uint64_t>(r + 24);
}

}  // namespace

DecodeStatus decode(std::span<const std::byte> msg, WireEvent& out, std::string& scratch) {
  WireReader r;
  const DecodeStatus s = r.open(msg, scratch);
  if (s != DecodeStatus::kOk) return s;
  if (r.count() != 1) return DecodeStatus::kMalformed;
  std::size_t unused = 0;
  r.next(out, unused);
  return DecodeStatus::kOk;
}

void BatchEncoder::reserve(std::size_t bytes) {
  buf_.resize(std::max(bytes, kBatchHeaderBytes + 3 * kMaxName));
}

bool BatchEncoder::begin(std::string_view host, std::string_view bus, std::string_view topic,
                         std::uint32_t topic_payload_size) noexcept {
  return start(kWireBatchVersion, host, bus, topic, topic_payload_size, 0);
}

bool BatchEncoder::begin_durable(std::string_view host, std::string_view bus,
                                 std::string_view topic, std::uint32_t topic_payload_size,
                                 std::uint64_t bus_incarnation) noexcept {
  return start(kWireDurableVersion, host, bus, topic, topic_payload_size, bus_incarnation);
}

bool BatchEncoder::start(std::uint16_t version, std::string_view host, std::string_view bus,
                         std::string_view topic, std::uint32_t topic_payload_size,
                         std::uint64_t bus_incarnation) noexcept {
  clear();
  if (host.size() > kMaxName || bus.size() > kMaxName || topic.size() > kMaxName) return false;
  const std::size_t n = kBatchHeaderBytes + host.size() + bus.size() + topic.size();
  if (buf_.size() < n) return false;
  version_ = version;
  std::byte* p = buf_.data();
  put<std::uint32_t>(p + 0, kWireMagic);
  put<std::uint16_t>(p + 4, version);
  put<std::uint16_t>(p + 6, 0);
  put<std::uint32_t>(p + 8, topic_payload_size);
  put<std::uint8_t>(p + 12, static_cast<std::uint8_t>(host.size()));
  put<std::uint8_t>(p + 13, static_cast<std::uint8_t>(bus.size()));
  put<std::uint8_t>(p + 14, static_cast<std::uint8_t>(topic.size()));
  put<std::uint8_t>(p + 15, 0);
  put<std::uint64_t>(p + 16, bus_incarnation);  // 0 (reserved) in version 2
  std::byte* q = p + kBatchHeaderBytes;
  for (const std::string_view name : {host, bus, topic}) {
    if (!name.empty()) std::memcpy(q, name.data(), name.size());  // an empty view may be null
    q += name.size();
  }
  size_ = n;
  return true;
}

bool BatchEncoder::append(const WireEvent& e) noexcept {
  if (size_ == 0 || count_ >= kMaxBatchEvents) return false;
  const bool durable = version_ == kWireDurableVersion;
  const std::size_t head = durable ? kDurableRecordBytes : kBatchRecordBytes;
  const std::size_t n = head + e.payload.size();
  if (buf_.size() - size_ < n || e.payload.size() > 0xffffffffu) return false;
  std::byte* r = buf_.data() + size_;
  put<std::uint8_t>(r + 0, static_cast<std::uint8_t>(e.priority));
  put<std::uint8_t>(r + 1, 0);
  put<std::uint16_t>(r + 2, e.event_flags);
  put<std::uint16_t>(r + 4, e.schema_version);
  put<std::uint16_t>(r + 6, 0);
  put<std::uint32_t>(r + 8, e.producer);
  put<std::uint32_t>(r + 12, e.producer_epoch);
  put<std::uint64_t>(r + 16, e.producer_seq);
  put<std::uint64_t>(r + 24, e.publish_realtime_ns);
  if (durable) put<std::uint64_t>(r + 32, e.ring_position);
  put<std::uint32_t>(r + head - 4, static_cast<std::uint32_t>(e.payload.size()));
  if (!e.payload.empty()) std::memcpy(r + head, e.payload.data(), e.payload.size());
  size_ += n;
  ++count_;
  return true;
}

std::span<const std::byte> BatchEncoder::finish() noexcept {
  if (size_ == 0) return {};
  put<std::uint16_t>(buf_.data() + 6, static_cast<std::uint16_t>(count_));
  return std::span<const std::byte>(buf_.data(), size_);
}

DecodeStatus WireReader::open(std::span<const std::byte> msg, std::string& scratch) {
  msg_ = msg;
  first_ = WireEvent{};
  count_ = index_ = offset_ = shared_ = 0;
  record_bytes_ = kBatchRecordBytes;
  batch_ = false;
  if (!msg.empty() && msg[0] == std::byte{'{'}) {
    const DecodeStatus s = decode_json(msg, first_, scratch);
    if (s == DecodeStatus::kOk) count_ = 1;
    return s;
  }
  if (msg.size() < 6) return DecodeStatus::kTruncated;
  const std::byte* p = msg.data();
  if (get<std::uint32_t>(p) != kWireMagic) return DecodeStatus::kBadMagic;
  const auto version = get<std::uint16_t>(p + 4);
  if (version == kWireVersion) {
    const DecodeStatus s = decode_single(msg, first_);
    if (s == DecodeStatus::kOk) count_ = 1;
    return s;
  }
  if (version != kWireBatchVersion && version != kWireDurableVersion) {
    return DecodeStatus::kBadVersion;
  }
  if (msg.size() < kBatchHeaderBytes) return DecodeStatus::kTruncated;
  const std::size_t n = get<std::uint16_t>(p + 6);
  if (n == 0) return DecodeStatus::kMalformed;
  const std::size_t rec = version == kWireDurableVersion ? kDurableRecordBytes : kBatchRecordBytes;
  first_.topic_payload_size = get<std::uint32_t>(p + 8);
  if (version == kWireDurableVersion) {
    first_.has_position = true;
    first_.bus_incarnation = get<std::uint64_t>(p + 16);
  }
  const std::size_t hl = get<std::uint8_t>(p + 12), bl = get<std::uint8_t>(p + 13),
                    tl = get<std::uint8_t>(p + 14);
  const std::size_t names_end = kBatchHeaderBytes + hl + bl + tl;
  if (names_end > msg.size()) return DecodeStatus::kTruncated;
  const char* c = reinterpret_cast<const char*>(p + kBatchHeaderBytes);
  first_.host = std::string_view(c, hl);
  first_.bus = std::string_view(c + hl, bl);
  first_.topic = std::string_view(c + hl + bl, tl);
  // Every record before the first event is handed out: a frame whose records and count
  // disagree is refused whole.
  std::size_t off = names_end;
  for (std::size_t i = 0; i < n; ++i) {
    if (msg.size() - off < rec) return DecodeStatus::kTruncated;
    if (get<std::uint8_t>(p + off) >= kPriorityCount) return DecodeStatus::kMalformed;
    const std::size_t pl = get<std::uint32_t>(p + off + rec - 4);
    if (msg.size() - off - rec < pl) return DecodeStatus::kTruncated;
    off += rec + pl;
  }
  if (off != msg.size()) return DecodeStatus::kMalformed;  // bytes past the counted events
  count_ = n;
  offset_ = names_end;
  shared_ = names_end;
  record_bytes_ = rec;
  batch_ = true;
  return DecodeStatus::kOk;
}

bool WireReader::next(WireEvent& out, std::size_t& wire_bytes) noexcept {
  if (index_ >= count_) return false;
  ++index_;
  out = first_;
  if (!batch_) {
    wire_bytes = msg_.size();
    return true;
  }
  const std::byte* r = msg_.data() + offset_;
  read_record(r, out);
  if (out.has_position) out.ring_position = get<std::uint64_t>(r + 32);
  const std::size_t pl = get<std::uint32_t>(r + record_bytes_ - 4);
  out.payload = msg_.subspan(offset_ + record_bytes_, pl);
  wire_bytes = record_bytes_ + pl;
  offset_ += wire_bytes;
  return true;
}

}  // namespace shmbus::bridge::detail
