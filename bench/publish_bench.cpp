// Micro-benchmarks of the core paths, in one process (no cross-core traffic, so they
// time the instructions, not the interconnect): publish with no subscriber, publish +
// dispatch to one subscriber (singly and through publish_batch), in-place claim/commit, and
// topic lookup by name.
// Cross-process latency and throughput live in bench/ipc (shmbus-ipc-bench).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "shmbus/bus.hpp"

namespace {

using shmbus::AgentOptions;
using shmbus::Bus;
using shmbus::BusConfig;
using shmbus::EventView;
using shmbus::Priority;
using shmbus::PublishStatus;
using shmbus::TopicId;

struct Setup {
  std::unique_ptr<Bus> pub;
  std::unique_ptr<Bus> sub;
  TopicId topic = 0;
  std::uint64_t sink = 0;

  explicit Setup(bool with_subscriber) {
    BusConfig cfg;
    cfg.name = "bench" + std::to_string(::getpid());
    cfg.ring_capacity = {4096, 4096, 4096, 4096};
    auto p = Bus::create(cfg, AgentOptions{.name = "pub"});
    if (!p) throw std::runtime_error(p.message());
    pub = std::make_unique<Bus>(std::move(p.value()));
    topic = *pub->register_topic("bench.x", 64);
    if (with_subscriber) {
      auto s = Bus::attach(cfg.name, AgentOptions{.name = "sub"});
      if (!s) throw std::runtime_error(s.message());
      sub = std::make_unique<Bus>(std::move(s.value()));
      (void)sub->on("bench.*", [this](const EventView& e) { sink += e.payload.size(); });
    }
  }
};

void BM_Publish_NoSubscriber(benchmark::State& state) {
  Setup s(false);
  std::byte payload[64] = {};
  for (auto _ : state) {
    if (s.pub->publish(s.topic, payload, sizeof(payload)) != PublishStatus::kOk) {
      state.SkipWithError("publish failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Publish_NoSubscriber);

void BM_PublishAndDispatch_OneSubscriber(benchmark::State& state) {
  Setup s(true);
  std::byte payload[64] = {};
  const auto batch = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      if (s.pub->publish(s.topic, payload, sizeof(payload), Priority::kNormal) !=
          PublishStatus::kOk) {
        state.SkipWithError("publish failed");
        return;
      }
    }
    benchmark::DoNotOptimize(s.sub->poll());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_PublishAndDispatch_OneSubscriber)->Arg(1)->Arg(64);

// BM_Publish_NoSubscriber's events, 64 to a publish_batch call.
void BM_PublishBatch_NoSubscriber(benchmark::State& state) {
  Setup s(false);
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::unique_ptr<std::byte[]> payloads(new std::byte[64 * batch]());
  for (auto _ : state) {
    if (s.pub->publish_batch(s.topic, payloads.get(), 64, batch).status != PublishStatus::kOk) {
      state.SkipWithError("publish_batch failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_PublishBatch_NoSubscriber)->Arg(64);

// The same events as BM_PublishAndDispatch_OneSubscriber/64, through one publish_batch call.
void BM_PublishBatchAndDispatch_OneSubscriber(benchmark::State& state) {
  Setup s(true);
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::unique_ptr<std::byte[]> payloads(new std::byte[64 * batch]());
  for (auto _ : state) {
    const shmbus::PublishBatchResult r =
        s.pub->publish_batch(s.topic, payloads.get(), 64, batch, Priority::kNormal);
    if (r.status != PublishStatus::kOk) {
      state.SkipWithError("publish_batch failed");
      return;
    }
    benchmark::DoNotOptimize(s.sub->poll());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_PublishBatchAndDispatch_OneSubscriber)->Arg(1)->Arg(64);

void BM_ClaimCommit_NoSubscriber(benchmark::State& state) {
  Setup s(false);
  for (auto _ : state) {
    shmbus::Claim c = s.pub->claim(s.topic, 64, Priority::kHigh);
    std::memset(c.data().data(), 1, 64);
    benchmark::DoNotOptimize(s.pub->commit(c));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClaimCommit_NoSubscriber);

void BM_TopicLookup_Cached(benchmark::State& state) {
  Setup s(false);
  for (int i = 0; i < 200; ++i) (void)s.pub->register_topic("md.quote.S" + std::to_string(i));
  for (auto _ : state) benchmark::DoNotOptimize(s.pub->find_topic("md.quote.S150"));
}
BENCHMARK(BM_TopicLookup_Cached);

}  // namespace
