// The bridge's wire format and subject mapping (bridge/wire_format, bridge/subject_map): round
// trips, and every kind of bad input answered with a status, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bridge/counters.hpp"
#include "bridge/hwm_file.hpp"
#include "bridge/import_sink.hpp"
#include "bridge/subject_map.hpp"
#include "bridge/wire_format.hpp"
#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

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
  if (!a.payload.empty()) {  // memcmp of an empty vector's null data() is undefined
    EXPECT_EQ(0, std::memcmp(a.payload.data(), b.payload.data(), a.payload.size()));
  }
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

/// A batch frame of `n` events of sample()'s topic: priorities cycle, payload i has i*3 bytes.
constexpr std::uint64_t kIncarnation = 1'765'000'000'123'456'789ull;

/// A frame of `n` events; `durable`: a durable frame (version 3), ring positions 500, 503, ...
std::vector<std::byte> batch_of(std::size_t n, std::vector<std::vector<std::byte>>& payloads,
                                std::vector<WireEvent>& events, bool durable = false) {
  payloads.clear();
  events.clear();
  for (std::size_t i = 0; i < n; ++i) payloads.push_back(bytes_of(i * 3));
  BatchEncoder enc;
  enc.reserve(64 * 1024);
  const WireEvent s = sample({});
  if (durable) {
    EXPECT_TRUE(enc.begin_durable(s.host, s.bus, s.topic, s.topic_payload_size, kIncarnation));
  } else {
    EXPECT_TRUE(enc.begin(s.host, s.bus, s.topic, s.topic_payload_size));
  }
  for (std::size_t i = 0; i < n; ++i) {
    WireEvent w = sample(payloads[i]);
    w.priority = static_cast<Priority>(i % kPriorityCount);
    w.event_flags = static_cast<std::uint16_t>(i);
    w.schema_version = static_cast<std::uint16_t>(3 + (i & 1));
    w.producer = 7 + static_cast<std::uint32_t>(i % 2);
    w.producer_seq = 1000 + i;
    w.publish_realtime_ns += i;
    w.ring_position = 500 + 3 * i;
    EXPECT_TRUE(enc.append(w));
    events.push_back(w);
  }
  const auto f = enc.finish();
  return {f.begin(), f.end()};
}

TEST(BridgeWire, BatchRoundTripKeepsEveryEventInOrder) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  const auto frame = batch_of(5, payloads, events);
  std::size_t expected = kBatchHeaderBytes + 5 + 4 + 12;
  for (const auto& p : payloads) expected += kBatchRecordBytes + p.size();
  EXPECT_EQ(frame.size(), expected);
  WireReader r;
  std::string scratch;
  ASSERT_EQ(r.open(frame, scratch), DecodeStatus::kOk);
  EXPECT_TRUE(r.batch());
  ASSERT_EQ(r.count(), 5u);
  EXPECT_EQ(r.shared_bytes(), kBatchHeaderBytes + 5 + 4 + 12);
  WireEvent out;
  std::size_t bytes = 0, total = r.shared_bytes();
  for (std::size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(r.next(out, bytes)) << i;
    expect_same(events[i], out);
    EXPECT_EQ(bytes, kBatchRecordBytes + payloads[i].size());
    total += bytes;
  }
  EXPECT_FALSE(r.next(out, bytes));
  EXPECT_EQ(total, frame.size());
  // decode() takes single events only: a batch of one, never of more.
  EXPECT_EQ(decode(frame, out, scratch), DecodeStatus::kMalformed);
  const auto one = batch_of(1, payloads, events);
  ASSERT_EQ(decode(one, out, scratch), DecodeStatus::kOk);
  expect_same(events[0], out);
}

TEST(BridgeWire, ReaderTakesVersion1AndJsonAsOneEvent) {
  const auto payload = bytes_of(16);
  const WireEvent w = sample(payload);
  std::vector<std::byte> buf(binary_size(w));
  ASSERT_EQ(encode_binary(w, buf), buf.size());
  const std::string j = encode_json(w);
  const std::span<const std::byte> js(reinterpret_cast<const std::byte*>(j.data()), j.size());
  for (const auto msg : {std::span<const std::byte>(buf), js}) {
    WireReader r;
    std::string scratch;
    ASSERT_EQ(r.open(msg, scratch), DecodeStatus::kOk);
    EXPECT_FALSE(r.batch());
    ASSERT_EQ(r.count(), 1u);
    WireEvent out;
    std::size_t bytes = 0;
    ASSERT_TRUE(r.next(out, bytes));
    expect_same(w, out);
    EXPECT_EQ(bytes, msg.size());
    EXPECT_FALSE(r.next(out, bytes));
  }
}

TEST(BridgeWire, TruncatedBatchYieldsNoEvent) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  const auto frame = batch_of(4, payloads, events);
  std::string scratch;
  for (std::size_t n = 0; n < frame.size(); ++n) {
    WireReader r;
    EXPECT_NE(r.open(std::span(frame.data(), n), scratch), DecodeStatus::kOk) << n;
    EXPECT_EQ(r.count(), 0u) << n;
  }
  // A payload length past the end, in the last record.
  auto l = frame;
  const std::size_t last = frame.size() - payloads[3].size() - kBatchRecordBytes;
  l[last + 32] = std::byte{0xff};
  WireReader r;
  EXPECT_EQ(r.open(l, scratch), DecodeStatus::kTruncated);
  // Bad priority in a record.
  auto p = frame;
  p[last] = std::byte{4};
  EXPECT_EQ(r.open(p, scratch), DecodeStatus::kMalformed);
}

TEST(BridgeWire, BatchCountThatDisagreesWithTheBytesIsRefused) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  const auto frame = batch_of(3, payloads, events);
  std::string scratch;
  WireReader r;
  auto zero = frame;
  zero[6] = std::byte{0};
  zero[7] = std::byte{0};
  EXPECT_EQ(r.open(zero, scratch), DecodeStatus::kMalformed);  // no event
  auto more = frame;
  more[6] = std::byte{4};
  EXPECT_EQ(r.open(more, scratch), DecodeStatus::kTruncated);  // a record missing
  auto huge = frame;
  huge[6] = std::byte{0xff};
  huge[7] = std::byte{0xff};
  EXPECT_EQ(r.open(huge, scratch), DecodeStatus::kTruncated);
  auto fewer = frame;
  fewer[6] = std::byte{2};
  EXPECT_EQ(r.open(fewer, scratch), DecodeStatus::kMalformed);  // bytes past the counted events
  // Name lengths past the end.
  auto names = frame;
  names[14] = std::byte{0xff};
  EXPECT_NE(r.open(names, scratch), DecodeStatus::kOk);
  EXPECT_EQ(r.count(), 0u);
}

TEST(BridgeWire, UnknownVersionIsRefusedWhateverTheFrame) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  auto frame = batch_of(2, payloads, events);
  std::string scratch;
  WireReader r;
  for (const int v : {0, 4, 99}) {
    frame[4] = static_cast<std::byte>(v);
    EXPECT_EQ(r.open(frame, scratch), DecodeStatus::kBadVersion) << int(v);
  }
}

TEST(BridgeWire, DurableBatchRoundTripCarriesIncarnationAndRingPositions) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  const auto frame = batch_of(5, payloads, events, true);
  // Header: version 3, the incarnation where version 2 has reserved bytes; 44-byte records.
  EXPECT_EQ(frame[4], std::byte{3});
  EXPECT_EQ(frame[16], std::byte{kIncarnation & 0xff});
  std::size_t expect = kBatchHeaderBytes + 5 + 4 + 12;
  for (const auto& p : payloads) expect += kDurableRecordBytes + p.size();
  ASSERT_EQ(frame.size(), expect);
  std::string scratch;
  WireReader r;
  ASSERT_EQ(r.open(frame, scratch), DecodeStatus::kOk);
  EXPECT_TRUE(r.batch());
  EXPECT_TRUE(r.durable());
  ASSERT_EQ(r.count(), 5u);
  WireEvent out;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(r.next(out, bytes));
    expect_same(out, events[i]);
    EXPECT_TRUE(out.has_position);
    EXPECT_EQ(out.bus_incarnation, kIncarnation);
    EXPECT_EQ(out.ring_position, 500 + 3 * i);
    EXPECT_EQ(bytes, kDurableRecordBytes + payloads[i].size());
  }
  EXPECT_FALSE(r.next(out, bytes));
  // A core frame carries no position.
  const auto core = batch_of(2, payloads, events);
  ASSERT_EQ(r.open(core, scratch), DecodeStatus::kOk);
  EXPECT_FALSE(r.durable());
  ASSERT_TRUE(r.next(out, bytes));
  EXPECT_FALSE(out.has_position);
}

TEST(BridgeWire, TruncatedOrMiscountedDurableBatchYieldsNoEvent) {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<WireEvent> events;
  const auto frame = batch_of(4, payloads, events, true);
  std::string scratch;
  WireReader r;
  for (std::size_t n = 0; n < frame.size(); ++n) {
    EXPECT_NE(r.open(std::span(frame.data(), n), scratch), DecodeStatus::kOk) << n;
    EXPECT_EQ(r.count(), 0u) << n;
  }
  // The last record's payload length (at 40 in a durable record) past the end.
  auto l = frame;
  const std::size_t last = frame.size() - payloads[3].size() - kDurableRecordBytes;
  l[last + 40] = std::byte{0xff};
  EXPECT_EQ(r.open(l, scratch), DecodeStatus::kTruncated);
  // Counts that disagree with the records: none, one more, far more, one fewer.
  auto zero = frame;
  zero[6] = std::byte{0};
  EXPECT_EQ(r.open(zero, scratch), DecodeStatus::kMalformed);
  auto more = frame;
  more[6] = std::byte{5};
  EXPECT_EQ(r.open(more, scratch), DecodeStatus::kTruncated);
  auto huge = frame;
  huge[6] = huge[7] = std::byte{0xff};
  EXPECT_EQ(r.open(huge, scratch), DecodeStatus::kTruncated);
  auto fewer = frame;
  fewer[6] = std::byte{3};
  EXPECT_EQ(r.open(fewer, scratch), DecodeStatus::kMalformed);
  EXPECT_EQ(r.count(), 0u);
  // A durable frame read as a core one (or the reverse) does not add up.
  auto as_core = frame;
  as_core[4] = std::byte{2};
  EXPECT_NE(r.open(as_core, scratch), DecodeStatus::kOk);
}

TEST(BridgeWire, BatchEncoderRefusesWhatDoesNotFit) {
  BatchEncoder enc;
  enc.reserve(kBatchHeaderBytes + 3 * kMaxName + 2 * (kBatchRecordBytes + 10));
  const auto payload = bytes_of(10);
  const WireEvent w = sample(payload);
  EXPECT_FALSE(enc.append(w));  // no frame begun
  const std::string longname(300, 'a');
  EXPECT_FALSE(enc.begin(w.host, w.bus, longname, 0));
  ASSERT_TRUE(enc.begin(w.host, w.bus, w.topic, 16));
  std::size_t n = 0;
  while (enc.append(w)) ++n;
  EXPECT_GE(n, 2u);
  EXPECT_EQ(enc.count(), n);
  WireReader r;
  std::string scratch;
  ASSERT_EQ(r.open(enc.finish(), scratch), DecodeStatus::kOk);
  EXPECT_EQ(r.count(), n);
}

TEST(BridgeWire, MutatedBatchFramesAreAStatusOrConsistentEvents) {
  for (const bool durable : {false, true}) {
    std::vector<std::vector<std::byte>> payloads;
    std::vector<WireEvent> events;
    const auto frame = batch_of(6, payloads, events, durable);
    std::uint64_t x = 88172645463325252ull;  // xorshift: the same mutations every run
    const auto rnd = [&x] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    std::string scratch;
    for (int i = 0; i < 20000; ++i) {
      auto m = frame;
      for (int k = 0, n = 1 + static_cast<int>(rnd() % 4); k < n; ++k) {
        m[rnd() % m.size()] = static_cast<std::byte>(rnd());
      }
      m.resize(m.size() - rnd() % 8 * (rnd() % 2));
      WireReader r;
      if (r.open(m, scratch) != DecodeStatus::kOk) {
        EXPECT_EQ(r.count(), 0u);
        continue;
      }
      // Whatever was accepted adds up to the message exactly, every payload inside it.
      WireEvent out;
      std::size_t bytes = 0, total = r.shared_bytes(), seen = 0;
      while (r.next(out, bytes)) {
        ASSERT_GE(out.payload.data(), m.data());
        ASSERT_LE(out.payload.data() + out.payload.size(), m.data() + m.size());
        ASSERT_LT(index_of(out.priority), kPriorityCount);
        total += bytes;
        ++seen;
      }
      ASSERT_EQ(seen, r.count());
      if (r.batch()) {
        ASSERT_EQ(total, m.size());
      }
    }
  }
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

// The durable path of the import sink against a real in-process bus: a durable frame whose middle
// event is larger than this bus's payload limit publishes the two others, in order, and counts
// the large one alone; a truncated one publishes nothing; a core frame in a stream is refused.
TEST(BridgeImportSink, DurableFrameRefusesTheEventTooLargeAloneAndPublishesTheRest) {
  BusConfig cfg;
  cfg.name = shmbus::testing::unique_bus_name("sink");
  cfg.name.erase(std::remove(cfg.name.begin(), cfg.name.end(), '.'), cfg.name.end());
  cfg.max_payload_bytes = 64;
  AgentOptions ao;
  ao.name = "imp";
  ao.full_policy = FullPolicy::kReturn;
  auto bus = Bus::create(cfg, ao);
  ASSERT_TRUE(bus.ok()) << bus.message();
  bridge::BridgeOptions o;
  o.bus = cfg.name;
  o.imports = {"t.*"};
  o.from_buses = {"X"};
  o.durable = {"t.*"};
  Counters c;
  ImportSink sink(o, c, *bus);
  BatchEncoder enc;
  enc.reserve(8192);
  ASSERT_TRUE(enc.begin_durable("elsewhere", "X", "t.mix", 0, kIncarnation));
  const std::vector<std::byte> small(16, std::byte{1}), big(1000, std::byte{2});
  std::uint64_t pos = 10;
  for (const auto* p : {&small, &big, &small}) {
    WireEvent w;
    w.priority = Priority::kHigh;
    w.ring_position = pos++;
    w.payload = *p;
    ASSERT_TRUE(enc.append(w));
  }
  const auto f = enc.finish();
  const std::vector<std::byte> frame(f.begin(), f.end());
  PreparedMessage m;
  ASSERT_EQ(sink.prepare("shmbus.X.t.mix", frame, true, m), ImportOutcome::kPublished);
  std::vector<ImportOutcome> outcomes;
  WireEvent w;
  std::size_t bytes = 0;
  while (m.reader.next(w, bytes)) {
    bool claimed = false;
    outcomes.push_back(sink.publish_event("shmbus.X.t.mix", m, w, bytes, true, claimed));
    EXPECT_EQ(claimed, outcomes.back() == ImportOutcome::kPublished);
  }
  EXPECT_EQ(outcomes,
            (std::vector<ImportOutcome>{ImportOutcome::kPublished, ImportOutcome::kRejected,
                                        ImportOutcome::kPublished}));
  EXPECT_EQ(c.reject_too_large.load(), 1u);
  EXPECT_EQ(c.in.messages.load(), 2u);
  EXPECT_NE(c.last_error().find("larger than this bus's limit"), std::string::npos);
  // Truncated: refused whole, before any event.
  PreparedMessage t;
  EXPECT_EQ(sink.prepare("shmbus.X.t.mix",
                         std::span<const std::byte>(frame.data(), frame.size() - 1), true, t),
            ImportOutcome::kRejected);
  EXPECT_EQ(c.reject_other.load(), 1u);
  // A core frame (version 2) carries no ring positions: not in a stream.
  ASSERT_TRUE(enc.begin("elsewhere", "X", "t.mix", 0));
  WireEvent one;
  one.payload = small;
  ASSERT_TRUE(enc.append(one));
  const auto core = enc.finish();
  EXPECT_EQ(sink.prepare("shmbus.X.t.mix", core, true, t), ImportOutcome::kRejected);
  EXPECT_EQ(c.reject_other.load(), 2u);
  EXPECT_EQ(c.in.messages.load(), 2u);
}

// The import mark file: a version-1 file (48 bytes: magic, version, done, pending, pending
// producer sequence, agent) is taken over in place with its `done`; ring marks persist, know
// each position of their window (not only the newest) and claim only their own incarnation.
TEST(BridgeHwmFile, TakesOverAVersion1FileAndKeepsRingMarksAcrossReopen) {
  shmbus::testing::TempDir dir("hwm");
  const std::string path = dir.sub("import.X.hwm");
  {
    const std::uint64_t v1[6] = {0x4d57484744425253ull, 1, 7, 7, 0, 0};
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(v1, sizeof v1, 1, f), 1u);
    std::fclose(f);
  }
  const auto open = [&path](HwmFile& h) {
    bool existed = false;
    ASSERT_TRUE(h.open(path, existed).ok());
    EXPECT_TRUE(existed);  // the version-1 file, then the one the first open made of it
  };
  {
    HwmFile h;
    open(h);
    const HwmState st = h.load();
    EXPECT_EQ(st.done, 7u);
    EXPECT_EQ(st.marks[1].incarnation, 0u);
    EXPECT_FALSE(h.seen(1, kIncarnation, 0));
    h.begin(8, 42, 3, 1, kIncarnation, 900);
    h.mark(1, kIncarnation, 900);
  }
  HwmFile h;
  open(h);
  const HwmState st = h.load();
  EXPECT_EQ(st.pending, 8u);
  EXPECT_EQ(st.pending_pseq, 42u);
  EXPECT_EQ(st.pending_index, 3u);
  EXPECT_EQ(st.pending_position, 900u);
  EXPECT_TRUE(h.seen(1, kIncarnation, 900));
  EXPECT_TRUE(h.seen(1, kIncarnation, 5));  // older than the window
  EXPECT_FALSE(h.seen(1, kIncarnation, 901));
  EXPECT_FALSE(h.seen(2, kIncarnation, 900));      // another ring
  EXPECT_FALSE(h.seen(1, kIncarnation + 1, 900));  // a recreated origin bus
  EXPECT_FALSE(h.seen(1, 0, 900));                 // an event without a position
  // Out of ring order (a history resend stored around a lost message): an older position not
  // imported yet is not taken for a duplicate.
  EXPECT_FALSE(h.seen(1, kIncarnation, 899));
  h.mark(1, kIncarnation, 899);
  EXPECT_TRUE(h.seen(1, kIncarnation, 899));
  EXPECT_FALSE(h.seen(1, kIncarnation, 898));
  // The window slides with the newest position: what leaves it counts as imported, what
  // enters it starts clear.
  const std::uint64_t far = 900 + kHwmRingWindow + 100;
  h.mark(1, kIncarnation, far);
  EXPECT_TRUE(h.seen(1, kIncarnation, far));
  EXPECT_TRUE(h.seen(1, kIncarnation, 898));
  EXPECT_FALSE(h.seen(1, kIncarnation, far - 1));
  EXPECT_FALSE(h.seen(1, kIncarnation, far - kHwmRingWindow + 64));
  // Another incarnation starts afresh.
  h.mark(1, kIncarnation + 1, 10);
  EXPECT_TRUE(h.seen(1, kIncarnation + 1, 10));
  EXPECT_FALSE(h.seen(1, kIncarnation + 1, 11));
  EXPECT_FALSE(h.seen(1, kIncarnation, far));
}

}  // namespace
