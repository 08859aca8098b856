// BenchOptions: what the command line asks for (parsed in main.cpp with CLI11).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "child_context.hpp"

namespace shmbus::bench {

struct BenchOptions {
  std::vector<std::string> transports;  ///< names; empty or "all" = every registered one
  std::vector<Mode> modes{Mode::kLatency};
  std::uint64_t messages = 1'000'000;  ///< measured messages per run
  /// Measured messages per throughput run; 0: `messages`. A run of 1M messages at 10M/s
  /// lasts 0.1 s, a few timer ticks: throughput wants more for a steady figure.
  std::uint64_t throughput_messages = 0;
  std::int64_t warmup = -1;           ///< -1: min(messages / 10, 100000), at least 1
  std::vector<std::size_t> payloads;  ///< empty: 64 for latency, 64/256/1024 for throughput
  int runs = 1;
  std::uint64_t gap_ns = 10'000;  ///< latency pacing: idle time after each ack
  std::size_t capacity = 1024;
  std::vector<int> cpus;  ///< {producer, consumer}; empty: first two allowed CPUs
  double stall_timeout_s = 10;
  double timeout_s = 900;
  Fault fault = Fault::kNone;

  bool json = false;  ///< JSON on stdout; human-readable lines go to stderr
  std::string json_file;
  std::string markdown_file;
  std::string plot_dir;  ///< writes latency.dat and throughput.dat there

  std::uint64_t messages_for(Mode mode) const {
    return mode == Mode::kThroughput && throughput_messages != 0 ? throughput_messages : messages;
  }
  std::uint64_t effective_warmup() const { return warmup_for(Mode::kLatency); }
  std::uint64_t warmup_for(Mode mode) const {
    if (warmup >= 0) return warmup > 0 ? static_cast<std::uint64_t>(warmup) : 1;
    const std::uint64_t tenth = messages_for(mode) / 10;
    return tenth < 1 ? 1 : (tenth > 100'000 ? 100'000 : tenth);
  }
  std::vector<std::size_t> payloads_for(Mode mode) const {
    if (!payloads.empty()) return payloads;
    if (mode == Mode::kLatency) return {64};
    return {64, 256, 1024};
  }
};

}  // namespace shmbus::bench
