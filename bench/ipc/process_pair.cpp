// ProcessPair: the consumer is forked first, then the producer; progress for the
// watchdog is the consumer's progress counter, the latency ack and its done flag.
#include "process_pair.hpp"

#include <atomic>

namespace shmbus::bench {

std::string PairOutcome::describe() const {
  std::string text;
  if (stalled) text += "wedged: no progress within the stall timeout; ";
  if (timed_out) text += "timed out; ";
  if (interrupted) text += "interrupted; ";
  text += "producer " + producer.describe() + ", consumer " + consumer.describe();
  return text;
}

PairOutcome run_process_pair(const ChildMain& producer_main, const ChildMain& consumer_main,
                             ControlBlock& control, const std::function<void()>& on_attached,
                             const PairOptions& options) {
  const std::vector<ChildSpec> children = {{"consumer", consumer_main, options.consumer_cpu},
                                           {"producer", producer_main, options.producer_cpu}};
  GroupWatch watch;
  watch.progress = [&] {
    return control.progress.load(std::memory_order_relaxed) +
           control.ack.load(std::memory_order_relaxed) +
           control.consumer_done.load(std::memory_order_relaxed);
  };
  watch.all_ready = [&] {
    return control.consumer_ready.load(std::memory_order_acquire) != 0 &&
           control.producer_ready.load(std::memory_order_acquire) != 0;
  };
  watch.on_ready = on_attached;
  const GroupOutcome group = run_process_group(
      children, watch,
      {.stall_timeout_ns = options.stall_timeout_ns, .hard_timeout_ns = options.hard_timeout_ns});

  PairOutcome result;
  result.consumer = group.children[0];
  result.producer = group.children[1];
  result.stalled = group.stalled;
  result.timed_out = group.timed_out;
  result.interrupted = group.interrupted;
  return result;
}

}  // namespace shmbus::bench
