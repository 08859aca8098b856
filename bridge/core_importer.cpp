// CoreImporter: core NATS subscriptions -> ImportSink.
#include "bridge/core_importer.hpp"

#include "bridge/subject_map.hpp"

namespace shmbus::bridge::detail {

CoreImporter::CoreImporter(const BridgeOptions& options, Counters& counters, Bus& bus)
    : options_(options), sink_(options, counters, bus) {}

CoreImporter::~CoreImporter() {
  unsubscribe();
}

Result<void> CoreImporter::subscribe(NatsLink& link) {
  std::vector<std::string> buses = options_.from_buses;
  if (buses.empty()) buses.push_back("*");
  for (const auto& b : buses) {
    for (const auto& p : options_.imports) {
      const std::string subj = subject_pattern(b, p);
      natsSubscription* sub = nullptr;
      const natsStatus s = natsConnection_Subscribe(&sub, link.connection(), subj.c_str(),
                                                    &CoreImporter::on_msg, this);
      if (s != NATS_OK) {
        return Error{Errc::kSystem, "subscribe to " + subj + ": " + nats_error_text(s)};
      }
      // Never drop on the client side before our counters see it: a generous pending limit.
      natsSubscription_SetPendingLimits(sub, 1 << 20, 256 << 20);
      subs_.push_back(sub);
    }
  }
  return {};
}

void CoreImporter::unsubscribe() noexcept {
  for (natsSubscription* s : subs_) {
    natsSubscription_Unsubscribe(s);
    natsSubscription_Destroy(s);
  }
  subs_.clear();
}

void CoreImporter::on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* me = static_cast<CoreImporter*>(self);
  const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
  bool claimed = false;
  (void)me->sink_.deliver(
      natsMsg_GetSubject(msg),
      std::span<const std::byte>(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg))), false,
      claimed);
  natsMsg_Destroy(msg);
}

}  // namespace shmbus::bridge::detail
