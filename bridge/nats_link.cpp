// The NATS connection: options (servers, credentials, backoff, reconnect buffer), callbacks that
// count connection events, and the JetStream context.
#include "bridge/nats_link.hpp"

#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

namespace shmbus::bridge::detail {

std::string nats_error_text(natsStatus s) {
  std::string t = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && t.find(last) == std::string::npos) {
    t.append(": ").append(last);
  }
  return t;
}

NatsLink::~NatsLink() {
  close();
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

void NatsLink::close() noexcept {
  if (js_ != nullptr) {
    jsCtx_Destroy(js_);
    js_ = nullptr;
  }
  closing_.store(true, std::memory_order_release);  // our own close is no disconnection
  if (nc_ != nullptr) {
    natsConnection_FlushTimeout(nc_, 200);
    natsConnection_Close(nc_);
    // The closed callback runs on the client's own thread, after Close returns: wait for it
    // (bounded) so that it never touches a destroyed link.
    for (int i = 0; i < 2000 && !closed_.load(std::memory_order_acquire); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    natsConnection_Destroy(nc_);
    nc_ = nullptr;
  }
  connected_.store(false, std::memory_order_release);
  counters_.connected.store(0, std::memory_order_relaxed);
}

void NatsLink::note_error(natsConnection* nc, const char* what) {
  const char* text = nullptr;
  const natsStatus s = nc != nullptr ? natsConnection_GetLastError(nc, &text) : NATS_OK;
  std::string msg = what;
  if (s != NATS_OK) {
    msg.append(": ").append(text != nullptr && *text != '\0' ? text : natsStatus_GetText(s));
    if (s == NATS_NOT_PERMITTED ||
        (text != nullptr && std::string(text).find("uthorization") != std::string::npos)) {
      auth_failed_.store(true, std::memory_order_release);
    }
  }
  counters_.set_error(msg);
}

void NatsLink::on_connected(natsConnection* nc, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  l->connected_.store(true, std::memory_order_release);
  l->generation_.fetch_add(1, std::memory_order_acq_rel);
  l->counters_.connected.store(1, std::memory_order_relaxed);
  char url[256] = {};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  spdlog::info("bridge: connected to NATS at {}", url);
}

void NatsLink::on_disconnected(natsConnection* nc, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  if (!l->connected_.exchange(false, std::memory_order_acq_rel)) return;  // connect retries
  if (l->closing_.load(std::memory_order_acquire)) return;
  l->counters_.connected.store(0, std::memory_order_relaxed);
  Counters::inc(l->counters_.disconnects);
  l->note_error(nc, "disconnected from NATS");
  spdlog::warn("bridge: disconnected from NATS; reconnecting with backoff");
}

void NatsLink::on_reconnected(natsConnection* nc, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  Counters::inc(l->counters_.reconnects);
  on_connected(nc, self);
}

void NatsLink::on_closed(natsConnection* nc, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  l->connected_.store(false, std::memory_order_release);
  l->counters_.connected.store(0, std::memory_order_relaxed);
  // Last: close() waits for this store before the link may be destroyed (ThreadSanitizer saw
  // this callback write into a link being deleted).
  l->closed_.store(true, std::memory_order_release);
  (void)nc;
}

void NatsLink::on_error(natsConnection* nc, natsSubscription* sub, natsStatus err, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  (void)sub;
  std::string msg = std::string("NATS error: ") + natsStatus_GetText(err);
  const char* text = nullptr;
  if (natsConnection_GetLastError(nc, &text) != NATS_OK && text != nullptr && *text != '\0') {
    msg.append(" (").append(text).append(")");
    if (std::string(text).find("uthorization") != std::string::npos) {
      l->auth_failed_.store(true, std::memory_order_release);
    }
  }
  if (err == NATS_SLOW_CONSUMER) Counters::inc(l->counters_.in.shed[index_of(Priority::kLow)]);
  l->counters_.set_error(msg);
  spdlog::warn("bridge: {}", msg);
}

// Exponential backoff with jitter: 50 ms, 100 ms, ... capped at 2 s, after each pass over the
// server list.
std::int64_t NatsLink::reconnect_delay(natsConnection* nc, int attempts, void* self) {
  auto* l = static_cast<NatsLink*>(self);
  l->note_error(nc, "cannot reach NATS");
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int shift = attempts < 6 ? attempts : 6;
  std::int64_t base = std::int64_t{50} << shift;
  if (base > 2000) base = 2000;
  return base / 2 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(base / 2 + 1));
}

Result<void> NatsLink::open(const LinkOptions& o) {
  if (o.urls.empty()) return Error{Errc::kInvalidArgument, "no NATS URL"};
  natsStatus s = natsOptions_Create(&opts_);
  std::vector<const char*> urls;
  for (const auto& u : o.urls) urls.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(opts_, urls.data(), static_cast<int>(urls.size()));
  if (s != NATS_OK) {
    return Error{Errc::kInvalidArgument, "bad NATS URL list: " + nats_error_text(s)};
  }
  if (!o.user.empty()) s = natsOptions_SetUserInfo(opts_, o.user.c_str(), o.password.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts_, o.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(opts_, false);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts_, -1);
  if (s == NATS_OK)
    s = natsOptions_SetCustomReconnectDelay(opts_, &NatsLink::reconnect_delay, this);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts_, o.reconnect_buffer_bytes);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts_, 2000);
  if (s == NATS_OK && o.send_asap) s = natsOptions_SetSendAsap(opts_, true);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts_, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts_, 2);
  // One delivery thread for every subscription: imports keep their arrival order.
  if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(opts_, true);
  // Each request (the JetStream API calls: stream and consumer setup) waits on an inbox of its
  // own instead of the connection's shared response subscription. Under ThreadSanitizer's
  // slowness, a bridge whose first request was in flight when nats-server was killed timed out
  // on every later request for minutes after the reconnection; with a fresh inbox per request
  // nothing carries over from before the broker died. Requests are rare (setup only).
  if (s == NATS_OK) s = natsOptions_UseOldRequestStyle(opts_, true);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts_, &NatsLink::on_disconnected, this);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts_, &NatsLink::on_reconnected, this);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts_, &NatsLink::on_closed, this);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts_, &NatsLink::on_error, this);
  if (s != NATS_OK) return Error{Errc::kSystem, "NATS options: " + nats_error_text(s)};

  // A first attempt in the foreground tells refused credentials (permanent: an error now) from
  // an unreachable server (retried in the background, never waited for).
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts_, false, nullptr, nullptr);
  if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts_);
  if (s == NATS_OK) {
    on_connected(nc_, this);
  } else {
    const std::string text = nats_error_text(s);
    if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED ||
        text.find("uthorization") != std::string::npos) {
      auth_failed_.store(true);
      counters_.set_error("NATS refused the credentials: " + text);
      return Error{Errc::kPermission, "NATS refused the credentials: " + text};
    }
    nc_ = nullptr;
    natsOptions_SetRetryOnFailedConnect(opts_, true, &NatsLink::on_connected, this);
    s = natsConnection_Connect(&nc_, opts_);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
      counters_.set_error("cannot connect to NATS: " + nats_error_text(s));
      return Error{Errc::kSystem, "cannot connect to NATS: " + nats_error_text(s)};
    }
    if (s == NATS_OK) {
      on_connected(nc_, this);
    } else {
      spdlog::warn("bridge: NATS not reachable yet at {} ({}); retrying in the background",
                   o.urls[0], text);
      counters_.set_error("cannot reach NATS at " + o.urls[0] + ": " + text);
    }
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = o.js_wait_ms;
  jo.PublishAsync.MaxPending = o.max_pending_async;
  jo.PublishAsync.AckHandler = o.ack_handler;
  jo.PublishAsync.AckHandlerClosure = o.ack_closure;
  jo.PublishAsync.StallWait = 1;
  s = natsConnection_JetStream(&js_, nc_, &jo);
  if (s != NATS_OK) return Error{Errc::kSystem, "JetStream context: " + nats_error_text(s)};
  return {};
}

}  // namespace shmbus::bridge::detail
