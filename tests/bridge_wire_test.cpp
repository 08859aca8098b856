// The bridge's wire format and subject mapping (bridge/wire_format, bridge/subject_map): round
// trips, and every kind of bad input answered with a status, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "bridge/subject_map.hpp"
#include "bridge/wire_format.hpp"

namespace {

using namespace shmbus;
using namespace shmbus::bridge::detail;

WireEvent sample(const std::vector<std::byte>& payload) {
  WireEvent w;
  w.priority = Priority::kHigh;
  w.event_flags = 2;
  w.schema_version = 3;
  w.topic_payload_size = 16;
  w.producer = 7;
  w.producer_epoch = 9;
  w.producer_seq = 123456789012ull;
  w.publish_realtime_ns = 1'700'000'000'000'000'000ull;
  w.host = "hostA";
  w.bus = "busA";
  w.topic = "order.filled";
  w.payload = payload;
  return w;
}

void expect_same(const WireEvent& a, const WireEvent& b) {
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.event_flags, b.event_flags);
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.topic_payload_size, b.topic_payload_size);
  EXPECT_EQ(a.producer, b.producer);
  EXPECT_EQ(a.producer_epoch, b.producer_epoch);
  EXPECT_EQ(a.producer_seq, b.producer_seq);
  EXPECT_EQ(a.publish_realtime_ns, b.publish_realtime_ns);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.bus, b.bus);
  EXPECT_EQ(a.topic, b.topic);
  ASSERT_EQ(a.payload.size(), b.payload.size());
  EXPECT_EQ(0, std::memcmp(a.payload.data(), b.payload.data(), a.payload.size()));
}

std::vector<std::byte> bytes_of(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 7 + 1);
  return v;
}

TEST(BridgeWire, BinaryRoundTrip) {
  const auto payload = bytes_of(16);
  const WireEvent w = sample(payload);
  std::vector<std::byte> buf(binary_size(w));
  ASSERT_EQ(encode_binary(w, buf), buf.size());
  EXPECT_EQ(buf.size(), kWireHeaderBytes + 5 + 4 + 12 + 16);
  WireEvent out;
  std::string scratch;
  ASSERT_EQ(decode(buf, out, scratch), DecodeStatus::kOk);
  expect_same(w, out);
}

TEST(BridgeWire, JsonRoundTrip) {
  const auto payload = bytes_of(40);
  const WireEvent w = sample(payload);
  const std::string j = encode_json(w);
  EXPECT_NE(j.find("\"topic\":\"order.filled\""), std::string::npos) << j;
  WireEvent out;
  std::string scratch;
  ASSERT_EQ(decode(std::span(reinterpret_cast<const std::byte*>(j.data()), j.size()), out, scratch),
            DecodeStatus::kOk);
  expect_same(w, out);
}

TEST(BridgeWire, BadInputIsAStatus) {
  const auto payload = bytes_of(8);
  const WireEvent w = sample(payload);
  std::vector<std::byte> buf(binary_size(w));
  ASSERT_NE(encode_binary(w, buf), 0u);
  WireEvent out;
  std::string scratch;
  // Unknown schema version.
  auto v = buf;
  v[4] = std::byte{99};
  EXPECT_EQ(decode(v, out, scratch), DecodeStatus::kBadVersion);
  // Not ours.
  auto m = buf;
  m[0] = std::byte{'x'};
  EXPECT_EQ(decode(m, out, scratch), DecodeStatus::kBadMagic);
  // Every truncation.
  for (std::size_t n = 0; n < buf.size(); ++n) {
    EXPECT_NE(decode(std::span(buf.data(), n), out, scratch), DecodeStatus::kOk) << n;
  }
  // A length that points past the end.
  auto l = buf;
  l[44] = std::byte{0xff};
  EXPECT_EQ(decode(l, out, scratch), DecodeStatus::kTruncated);
  // Bad priority.
  auto p = buf;
  p[6] = std::byte{9};
  EXPECT_EQ(decode(p, out, scratch), DecodeStatus::kMalformed);
  // Broken JSON, JSON of another version.
  const std::string bad = "{\"magic\":\"shmbus\",\"v\":2}";
  EXPECT_EQ(
      decode(std::span(reinterpret_cast<const std::byte*>(bad.data()), bad.size()), out, scratch),
      DecodeStatus::kBadVersion);
  const std::string broken = "{\"magic\":";
  EXPECT_EQ(decode(std::span(reinterpret_cast<const std::byte*>(broken.data()), broken.size()), out,
                   scratch),
            DecodeStatus::kMalformed);
  // Names longer than the format allows are refused at encode time.
  const std::string longname(300, 'a');
  WireEvent big = w;
  big.topic = longname;
  std::vector<std::byte> b2(binary_size(big));
  EXPECT_EQ(encode_binary(big, b2), 0u);
}

TEST(BridgeSubjects, TopicsAndPatterns) {
  std::string s;
  subject_of("B", "order.filled", s);
  EXPECT_EQ(s, "shmbus.B.order.filled");
  EXPECT_EQ(subject_pattern("B", "order.*"), "shmbus.B.order.>");
  EXPECT_EQ(subject_pattern("*", "*"), "shmbus.*.>");
  EXPECT_EQ(subject_pattern("B", "md.quote"), "shmbus.B.md.quote");
  std::string_view bus, topic;
  ASSERT_TRUE(topic_of("shmbus.B.order.filled", bus, topic));
  EXPECT_EQ(bus, "B");
  EXPECT_EQ(topic, "order.filled");
  EXPECT_FALSE(topic_of("shmbus.B", bus, topic));
  EXPECT_FALSE(topic_of("other.B.x", bus, topic));
  EXPECT_FALSE(topic_of("shmbus.B.bad$topic", bus, topic));
  EXPECT_FALSE(topic_of("shmbus..x", bus, topic));
  EXPECT_FALSE(validate_bus_token("a.b").empty());
  EXPECT_TRUE(validate_bus_token("busA").empty());
  EXPECT_EQ(stream_name("busA"), "SHMBUS_busA");
}

}  // namespace
