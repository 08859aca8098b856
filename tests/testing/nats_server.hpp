// A real nats-server process for tests: a free loopback port, JetStream with a store directory,
// optional credentials and cluster routes. Killed (SIGKILL) when destroyed; restartable on the
// same port and store directory. Tests skip when nats-server is not installed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "testing/test_support.hpp"

namespace shmbus::testing {

/// Path of nats-server, or empty when it is not installed.
std::string nats_server_path();
/// A TCP port on 127.0.0.1 that nobody listens on right now.
int free_port();

struct NatsServerOptions {
  std::string store_dir;  ///< JetStream store (-sd); empty: no JetStream
  std::string user, password;
  std::string server_name;
  int cluster_port = 0;          ///< >0: cluster listen port
  std::vector<int> route_ports;  ///< other members' cluster ports
  std::string cluster_name = "shmbus";
};

class NatsServer {
 public:
  NatsServer() = default;
  NatsServer(int port, NatsServerOptions options) : port_(port), options_(std::move(options)) {}
  /// Starts it and waits (up to `timeout`) until its client port accepts connections.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void kill();  ///< SIGKILL and reap
  bool running() { return child_.running(); }
  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  NatsServerOptions options_;
  Child child_;
};

/// True once something accepts a TCP connection on 127.0.0.1:`port`.
bool port_accepts(int port);

}  // namespace shmbus::testing
