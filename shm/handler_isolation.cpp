// HandlerIsolation: ERROR events (published through the Publisher's system path), dead
// letters, auto-unsubscribe after repeated failures, slow-handler reports.
#include "shm/handler_isolation.hpp"

#include <cstdio>
#include <cstring>
#include <exception>

#include "shm/agent_table.hpp"
#include "shm/clock.hpp"
#include "shm/error_log.hpp"
#include "shmbus/sys_events.hpp"

namespace shmbus::detail {

void HandlerIsolation::init(Segment& segment, std::uint32_t self, const AgentOptions& options,
                            SharedTopics& topics, Publisher& publisher, SubscriptionTable& subs) {
  seg_ = &segment;
  rec_ = &segment.agent(self);
  self_ = self;
  agent_name_ = options.name;
  max_handler_failures_ = options.max_handler_failures;
  handler_budget_ns_ = options.handler_budget.count();
  topics_ = &topics;
  publisher_ = &publisher;
  subs_ = &subs;
  dead_letters_ = std::make_unique<DeadLetterArea>(segment);
}

void HandlerIsolation::publish_error(std::uint32_t kind, const ReadEvent& ev, const Subscription& s,
                                     const char* message, std::uint64_t now_ns) noexcept {
  if (!error_topic_tried_) {
    // First failure in this process: register sys.error (cold, once).
    error_topic_tried_ = true;
    try {
      auto id = topics_->register_topic(sys::ErrorEvent::kTopic, sizeof(sys::ErrorEvent),
                                        sys::ErrorEvent::kSchemaVersion);
      if (id) error_topic_ = *id;
    } catch (...) {
    }
  }
  if (error_topic_ == kInvalidTopic) return;
  // Never recursively: a failure while handling an ERROR event reports nothing.
  if (ev.header->topic_id == error_topic_) return;
  sys::ErrorEvent e{};
  e.error_mono_ns = now_ns;
  e.event_sequence = ev.header->producer_seq;
  // Occurrences of this kind at this agent so far.
  switch (static_cast<sys::ErrorKind>(kind)) {
    case sys::ErrorKind::kHandlerSlow:
      e.count = rec_->handler_slow.load(std::memory_order_relaxed);
      break;
    case sys::ErrorKind::kHandlerUnsubscribed:
      e.count = rec_->handlers_unsubscribed.load(std::memory_order_relaxed);
      break;
    default:
      e.count = rec_->handler_errors.load(std::memory_order_relaxed);
      break;
  }
  e.agent_index = self_;
  e.topic = ev.header->topic_id;
  e.kind = static_cast<sys::ErrorKind>(kind);
  e.errc = Errc::kOk;
  std::strncpy(e.agent, agent_name_.c_str(), sizeof e.agent - 1);
  std::strncpy(e.handler, s.name.c_str(), sizeof e.handler - 1);
  if (message != nullptr) std::strncpy(e.message, message, sizeof e.message - 1);
  ErrorLog(*seg_).append(e, realtime_ns());  // kept in the segment for `shmbus errors`
  if (publisher_->publish_system(error_topic_, &e, sizeof e) != PublishStatus::kOk)
    ++system_events_dropped_;
}

void HandlerIsolation::handler_failed(std::uint32_t ring, const ReadEvent& ev, Subscription& s,
                                      const char* reason) noexcept {
  ++s.errors;
  ++s.error_streak;
  rec_->handler_errors.fetch_add(1, std::memory_order_relaxed);
  TopicAgentCounters& tc = seg_->topic_counters(self_, ev.header->topic_id);
  tc.failed.store(tc.failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  rec_->handler_error_streak.store(s.error_streak, std::memory_order_relaxed);
  const std::uint64_t now = monotonic_ns();
  DeadLetterRecord letter;
  letter.event = ev.header;
  letter.payload = ev.payload;
  letter.length = ev.length;
  letter.priority = static_cast<std::uint8_t>(ring);
  letter.failing_agent = self_;
  letter.failed_ns = now;
  letter.handler = s.name;
  letter.reason = reason != nullptr ? std::string_view(reason) : std::string_view();
  if (dead_letters_ && dead_letters_->write(letter)) {
    rec_->dead_lettered.fetch_add(1, std::memory_order_relaxed);
    tc.dead_lettered.store(tc.dead_lettered.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
  }
  publish_error(static_cast<std::uint32_t>(sys::ErrorKind::kHandlerException), ev, s, reason, now);
  const std::uint32_t limit = max_handler_failures_;
  if (limit != 0 && s.error_streak >= limit && s.active) {
    (void)subs_->remove(s.id);  // retired, not freed: we are inside its dispatch
    rec_->handlers_unsubscribed.fetch_add(1, std::memory_order_relaxed);
    char msg[80];
    std::snprintf(msg, sizeof msg, "unsubscribed after %u failures in a row", s.error_streak);
    publish_error(static_cast<std::uint32_t>(sys::ErrorKind::kHandlerUnsubscribed), ev, s, msg,
                  now);
  }
}

void HandlerIsolation::handler_slow(const ReadEvent& ev, Subscription& s, std::uint64_t took_ns,
                                    std::uint64_t now_ns) noexcept {
  ++s.slow;
  rec_->handler_slow.fetch_add(1, std::memory_order_relaxed);
  if (s.last_slow_report_ns != 0 && now_ns - s.last_slow_report_ns < 1'000'000'000ull) return;
  s.last_slow_report_ns = now_ns;
  char msg[80];
  std::snprintf(msg, sizeof msg, "handler took %llu ns (budget %lld ns)",
                static_cast<unsigned long long>(took_ns),
                static_cast<long long>(handler_budget_ns_));
  publish_error(static_cast<std::uint32_t>(sys::ErrorKind::kHandlerSlow), ev, s, msg, now_ns);
}

}  // namespace shmbus::detail
