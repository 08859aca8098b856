// Tests of the built-in event catalogue: descriptors agree with the payload structs, topic names
// are unique and valid, payloads fit shared memory, fixed text fields truncate safely, and
// register_catalog registers every topic on a real bus.
#include "shmbus/catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>

#include "shmbus/bus.hpp"
#include "shmbus/config.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::catalog {
namespace {

TEST(CatalogTest, HasAtLeastThirtyEntries) {
  EXPECT_GE(catalog().size(), 30u);
  EXPECT_EQ(catalog().size(), kCatalogSize);
}

TEST(CatalogTest, TopicNamesAreUnique) {
  std::set<std::string_view> seen;
  for (const CatalogEntry& e : catalog()) {
    EXPECT_TRUE(seen.insert(e.topic).second) << "duplicate topic " << e.topic;
  }
}

TEST(CatalogTest, TopicNamesAreValid) {
  for (const CatalogEntry& e : catalog()) {
    EXPECT_EQ(validate_topic_name(e.topic), "") << e.topic;
  }
}

// So that "md.quote.ESZ6"-style names map to exactly one type, and "x.*" patterns on one
// catalogue topic never catch another.
TEST(CatalogTest, NoTopicIsDottedPrefixOfAnother) {
  for (const CatalogEntry& a : catalog()) {
    for (const CatalogEntry& b : catalog()) {
      if (&a == &b) continue;
      EXPECT_FALSE(topic_matches(std::string(a.topic) + ".*", b.topic))
          << a.topic << " is a prefix of " << b.topic;
    }
  }
}

TEST(CatalogTest, EntriesMatchTheirStructs) {
  std::size_t i = 0;
  visit_catalog_types([&](auto tag) {
    using T = typename decltype(tag)::type;
    ASSERT_LT(i, catalog().size());
    const CatalogEntry& e = catalog()[i++];
    SCOPED_TRACE(std::string(T::kTopic));
    EXPECT_EQ(e.topic, T::kTopic);
    EXPECT_EQ(e.payload_size, sizeof(T));
    EXPECT_EQ(e.schema_version, T::kSchemaVersion);
    EXPECT_EQ(e.schema_version, schema_version_of<T>());
    EXPECT_EQ(e.description, T::kDescription);
  });
  EXPECT_EQ(i, catalog().size());
}

TEST(CatalogTest, EveryTypeIsTriviallyCopyableAndFitsDefaultPayload) {
  const std::size_t default_max = BusConfig{}.max_payload_bytes;
  EXPECT_EQ(default_max, kMaxCatalogPayload);
  visit_catalog_types([&](auto tag) {
    using T = typename decltype(tag)::type;
    SCOPED_TRACE(std::string(T::kTopic));
    EXPECT_TRUE(std::is_trivially_copyable_v<T>);
    EXPECT_TRUE(std::is_standard_layout_v<T>);
    EXPECT_TRUE(std::has_unique_object_representations_v<T>) << "implicit padding";
    EXPECT_LE(sizeof(T), default_max);
    EXPECT_EQ(sizeof(T) % 8, 0u);
  });
}

TEST(CatalogTest, ValueInitialisedPayloadIsAllZeroBytes) {
  visit_catalog_types([](auto tag) {
    using T = typename decltype(tag)::type;
    SCOPED_TRACE(std::string(T::kTopic));
    const T value{};
    std::array<unsigned char, sizeof(T)> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(T));
    EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; }));
  });
}

TEST(CatalogTest, EveryEntryHasAKnownGroupAndADescription) {
  const std::set<std::string_view> groups{"market_data", "order",  "position",   "risk",
                                          "strategy",    "system", "performance"};
  std::set<std::string_view> used;
  for (const CatalogEntry& e : catalog()) {
    EXPECT_EQ(groups.count(e.group), 1u) << e.topic << " in group '" << e.group << "'";
    EXPECT_FALSE(e.description.empty()) << e.topic;
    used.insert(e.group);
  }
  EXPECT_EQ(used, groups);
}

TEST(CatalogTest, SetSymbolTruncatesAndNulTerminates) {
  char symbol[kSymbolLen];
  std::memset(symbol, 'x', sizeof(symbol));
  set_symbol(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  EXPECT_EQ(symbol[kSymbolLen - 1], '\0');
  EXPECT_EQ(std::string_view(symbol), "ABCDEFGHIJKLMNO");
  EXPECT_EQ(symbol_view(symbol), "ABCDEFGHIJKLMNO");
}

TEST(CatalogTest, SetSymbolKeepsShortTextAndZeroFillsTheRest) {
  char symbol[kSymbolLen];
  set_symbol(symbol, "ABCDEFGHIJKLMNOPQ");
  set_symbol(symbol, "ESZ6");
  EXPECT_EQ(symbol_view(symbol), "ESZ6");
  for (std::size_t i = 4; i < kSymbolLen; ++i) EXPECT_EQ(symbol[i], '\0') << "byte " << i;
}

TEST(CatalogTest, SetSymbolHandlesEmptyAndExactFit) {
  char venue[kVenueLen];
  set_symbol(venue, "");
  EXPECT_EQ(symbol_view(venue), "");
  set_symbol(venue, "XCMEXYZ");  // kVenueLen - 1 characters: fits exactly
  EXPECT_EQ(symbol_view(venue), "XCMEXYZ");
  EXPECT_EQ(venue[kVenueLen - 1], '\0');
}

TEST(CatalogTest, SymbolViewStopsAtArrayEndWithoutNul) {
  char raw[4] = {'A', 'B', 'C', 'D'};  // as a hostile writer could leave it
  EXPECT_EQ(symbol_view(raw), "ABCD");
}

TEST(CatalogTest, FindsTypeOfExactAndSuffixedTopic) {
  std::string_view found;
  EXPECT_TRUE(
      visit_catalog_type("md.quote.ESZ6", [&](auto tag) { found = decltype(tag)::type::kTopic; }));
  EXPECT_EQ(found, Quote::kTopic);

  bool is_fill = false;
  EXPECT_TRUE(visit_catalog_type("order.filled", [&](auto tag) {
    is_fill = std::is_same_v<typename decltype(tag)::type, OrderFilled>;
  }));
  EXPECT_TRUE(is_fill);
}

TEST(CatalogTest, FindsNoTypeForUnknownTopic) {
  bool called = false;
  EXPECT_FALSE(visit_catalog_type("md.quotes", [&](auto) { called = true; }));
  EXPECT_FALSE(visit_catalog_type("md", [&](auto) { called = true; }));
  EXPECT_FALSE(visit_catalog_type("user.thing", [&](auto) { called = true; }));
  EXPECT_FALSE(called);
  EXPECT_EQ(find_catalog_entry(""), nullptr);
}

TEST(CatalogTest, RegisterCatalogRegistersEveryTopicIdempotently) {
  BusConfig config;
  config.name = "catalog_test_" + std::to_string(::getpid());
  AgentOptions options;
  options.name = "catalog_test";
  auto bus = Bus::create(config, options);
  ASSERT_TRUE(bus) << bus.message();

  auto first = register_catalog(*bus);
  ASSERT_TRUE(first) << first.message();
  auto again = register_catalog(*bus);
  ASSERT_TRUE(again) << again.message();

  std::set<TopicId> ids;
  for (const CatalogEntry& e : catalog()) {
    auto id = bus->find_topic(e.topic);
    ASSERT_TRUE(id) << e.topic << ": " << id.message();
    EXPECT_TRUE(ids.insert(*id).second) << e.topic;
    EXPECT_EQ(bus->topic_name(*id), e.topic);
  }
}

}  // namespace
}  // namespace shmbus::catalog
