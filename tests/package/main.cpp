// Creates an embedded bus through the installed package, publishes and receives one event.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "shmbus/shmbus.hpp"

int main() {
  shmbus::BusConfig cfg;
  cfg.name = "pkg" + std::to_string(::getpid());
  auto bus = shmbus::Bus::create(cfg, {.name = "consumer"});
  if (!bus) {
    std::fprintf(stderr, "%s\n", bus.message().c_str());
    return 1;
  }
  auto topic = bus->register_topic("pkg.hello");
  int got = 0;
  (void)bus->on("pkg.*", [&](const shmbus::EventView&) { ++got; });
  if (!topic || bus->publish(*topic, "hi", 2) != shmbus::PublishStatus::kOk) return 2;
  bus->poll();
  std::printf("received %d\n", got);
  return got == 1 ? 0 : 3;
}
