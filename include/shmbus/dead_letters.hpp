// Dead letters: events whose handler threw, kept in a bounded area of the segment
// (oldest dropped first, counted) with the failing handler and the reason. Any
// process can list them without attaching as an agent; an attached Bus can
// re-publish them (flagged kFlagReplayed). Used by operators and the CLI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shmbus/event.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/topic.hpp"

namespace shmbus {

class Bus;

/// One failed event, copied out of the segment.
struct DeadLetter {
  std::uint64_t index = 0;  ///< position in the dead-letter area (grows by one per letter)
  TopicId topic = kInvalidTopic;
  std::string topic_name;  ///< from the segment's topic registry; empty if unknown
  Priority priority = Priority::kNormal;
  std::uint16_t flags = 0;  ///< the event's EventFlags as published
  std::uint16_t schema_version = 0;
  EventId id;                       ///< producer agent, its epoch and its sequence
  std::uint64_t timestamp_ns = 0;   ///< publish time, CLOCK_MONOTONIC
  std::uint64_t failed_ns = 0;      ///< when the handler threw, CLOCK_MONOTONIC
  std::uint32_t failing_agent = 0;  ///< agent index whose handler threw
  std::string handler;              ///< HandlerOptions::name (truncated to 47 chars)
  std::string reason;               ///< what() of the exception (truncated to 79 chars)
  std::vector<std::byte> payload;
};

/// Totals of the dead-letter area.
struct DeadLetterTotals {
  std::uint64_t written = 0;   ///< letters ever added
  std::uint64_t dropped = 0;   ///< letters lost (oldest overwritten when full)
  std::uint32_t capacity = 0;  ///< entries kept (BusConfig::dead_letter_capacity)
};

/// Lists the dead letters kept in bus `bus_name`, oldest first. Maps the segment and only reads
/// it (no agent record is taken). Errors: those of opening the segment (kNotFound,
/// kVersionMismatch, kCorrupt, ...). Letters overwritten while being copied are skipped. Any
/// thread; cold path (allocates).
Result<std::vector<DeadLetter>> list_dead_letters(std::string_view bus_name);
/// Same, through an attached bus.
Result<std::vector<DeadLetter>> list_dead_letters(Bus& bus);
/// Counters of the dead-letter area of `bus_name`.
Result<DeadLetterTotals> dead_letter_totals(std::string_view bus_name);

/// Which letters replay_dead_letters re-publishes.
struct DeadLetterFilter {
  std::string pattern = "*";    ///< topic pattern, as for Bus::on
  std::string handler;          ///< only letters of this handler name; empty = any
  std::uint64_t min_index = 0;  ///< only letters with index >= this (skip replayed ones)
  std::function<bool(const DeadLetter&)> predicate;  ///< extra test; empty = accept
};

/// Re-publishes the matching dead letters through `bus`, oldest first, on their original topic
/// and priority with kFlagReplayed added; returns how many were published (kOk). Letters stay in
/// the area (use min_index to skip those already replayed). Errors: kInvalidArgument (bad
/// pattern); a publish that does not return kOk stops the replay with kCapacityExceeded naming
/// the status.
Result<std::size_t> replay_dead_letters(Bus& bus, const DeadLetterFilter& filter = {});

}  // namespace shmbus
