// BusImpl: everything behind the public Bus handle. Owns the segment, this agent's
// record and the process's topic registry, and joins the two roles over them: the
// Publisher (any thread) and the Dispatcher (the dispatching thread). Internal code
// reaches it from a Bus through BusAccess (bus_access.hpp). Not API.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "shm/agent_table.hpp"
#include "shm/dispatcher.hpp"
#include "shm/publisher.hpp"
#include "shm/segment.hpp"
#include "shm/shared_topics.hpp"

namespace shmbus::detail {

class BusImpl {
 public:
  static Result<std::unique_ptr<BusImpl>> make(std::unique_ptr<Segment> segment,
                                               const AgentOptions& options, bool owns_segment);
  BusImpl(const BusImpl&) = delete;
  BusImpl& operator=(const BusImpl&) = delete;
  ~BusImpl();

  // topics
  Result<TopicId> register_topic(std::string_view name, std::uint32_t payload_size,
                                 std::uint16_t schema_version) {
    return topics_->register_topic(name, payload_size, schema_version);
  }
  Result<TopicId> find_topic(std::string_view name) { return topics_->find(name); }
  /// Dispatching thread (it reads the dispatcher's copy of the names).
  std::string_view topic_name(TopicId id);

  // the two roles
  Publisher& publisher() noexcept { return publisher_; }
  Dispatcher& dispatcher() noexcept { return dispatcher_; }

  // information
  Segment& segment() noexcept { return *seg_; }
  AgentRecord& record() noexcept { return *rec_; }
  std::uint32_t agent_index() const noexcept { return self_; }
  const std::string& agent_name() const noexcept { return options_.name; }
  const BusConfig& config() const noexcept { return config_; }

 private:
  BusImpl() = default;

  std::unique_ptr<Segment> seg_;
  AgentRecord* rec_ = nullptr;
  std::uint32_t self_ = kNoAgent;
  bool owns_segment_ = false;
  AgentOptions options_;
  BusConfig config_;
  std::unique_ptr<SharedTopics> topics_;
  // The last sweep of dead agents by this process: by a publisher facing a full ring or by the
  // dispatcher stuck behind an uncommitted slot (rate-limited by kRecoverCheckNs). Relaxed.
  std::atomic<std::uint64_t> last_recover_ns_{0};
  Publisher publisher_;
  Dispatcher dispatcher_;
};

}  // namespace shmbus::detail
