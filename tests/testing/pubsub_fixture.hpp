// The fixture of the publish and dispatch tests (pubsub_test, batch_publish_test): a bus this
// process creates as agent "owner" (pubsub_bus_config) and a subscriber agent "sub" attached to
// it, released in reverse order. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "shmbus/bus.hpp"
#include "testing/test_support.hpp"

namespace shmbus::testing {

class PubSubFixture : public ::testing::Test {
 protected:
  /// `prefix` starts the bus's unique name.
  explicit PubSubFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    name = unique_bus_name(prefix_);
    auto b = Bus::create(pubsub_bus_config(name), AgentOptions{.name = "owner"});
    ASSERT_TRUE(b) << b.message();
    owner = std::make_unique<Bus>(std::move(b.value()));
    auto s = Bus::attach(name, AgentOptions{.name = "sub"});
    ASSERT_TRUE(s) << s.message();
    sub = std::make_unique<Bus>(std::move(s.value()));
  }
  void TearDown() override {
    sub.reset();
    owner.reset();
  }

  std::string name;
  std::unique_ptr<Bus> owner;
  std::unique_ptr<Bus> sub;

 private:
  std::string prefix_;
};

}  // namespace shmbus::testing
