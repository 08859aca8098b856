// The child processes of each scenario. Each function runs in a forked child,
// attaches to the run's bus as its own agent, does its part, writes its results
// into its ChildReport, and throws std::runtime_error on failure (the runner puts
// the text into the report). The runner forks subscribers first (slots 0..M-1).
#pragma once

#include "child_env.hpp"

namespace shmbus::bench::scaling {

// ---- fan-out (fanout_children.cpp): 1 producer, M subscribers --------------------------
/// Publishes warm-up + N events. Unpaced: back to back. Paced: stamps each, waits for every
/// subscriber's ack, then idles gap_ns.
void fanout_producer(const ChildEnv& env, bool paced);
/// Checks every sequence number. Unpaced: times its N events after the warm-up. Paced:
/// records now - stamp per event and acks it.
void fanout_subscriber(const ChildEnv& env, bool paced);

// ---- producers (producers_children.cpp): P producers, 1 subscriber ---------------------
/// Publishes its share of warm-up + N events back to back, as (rank, 0, 1, 2, ...).
void share_producer(const ChildEnv& env);
/// Checks per-producer FIFO and exactly-once; times the N events after the first warm-up ones.
void merge_subscriber(const ChildEnv& env);

// ---- priority (priority_children.cpp): CRITICAL stream, optionally under a LOW flood ---
/// Paced CRITICAL events with a stamp; under load, starts once the flood filled a ring.
void critical_producer(const ChildEnv& env);
/// LOW events back to back (waiting whenever the ring is full) until told to stop.
void flood_producer(const ChildEnv& env);
/// Subscribed to both topics; records CRITICAL latency, counts LOW events meanwhile.
void priority_subscriber(const ChildEnv& env);

}  // namespace shmbus::bench::scaling
