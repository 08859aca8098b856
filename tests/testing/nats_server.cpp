// nats-server processes for the bridge tests.
#include "testing/nats_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <signal.h>

namespace shmbus::testing {

std::string nats_server_path() {
  for (const char* p :
       {"/usr/bin/nats-server", "/usr/local/bin/nats-server", "/usr/sbin/nats-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool NatsServer::start(std::chrono::milliseconds timeout) {
  std::vector<std::string> args{"-a", "127.0.0.1", "-p", std::to_string(port_)};
  if (!options_.store_dir.empty()) {
    args.insert(args.end(), {"-js", "-sd", options_.store_dir});
  }
  if (!options_.user.empty())
    args.insert(args.end(), {"--user", options_.user, "--pass", options_.password});
  if (!options_.server_name.empty()) args.insert(args.end(), {"-n", options_.server_name});
  if (options_.cluster_port > 0) {
    args.insert(args.end(), {"--cluster_name", options_.cluster_name, "--cluster",
                             "nats://127.0.0.1:" + std::to_string(options_.cluster_port)});
    std::string routes;
    for (int p : options_.route_ports) {
      if (!routes.empty()) routes += ",";
      routes += "nats://127.0.0.1:" + std::to_string(p);
    }
    if (!routes.empty()) args.insert(args.end(), {"--routes", routes});
  }
  // Its log goes to a file beside the store (or nowhere), not into the test's output.
  args.insert(args.end(),
              {"-l", options_.store_dir.empty() ? "/dev/null" : options_.store_dir + ".log"});
  child_ = Child::exec(nats_server_path(), args);
  return eventually([&] { return port_accepts(port_) || !child_.running(); }, timeout) &&
         child_.running();
}

void NatsServer::kill() {
  if (child_.running()) child_.kill(SIGKILL);
  child_.wait(std::chrono::seconds(10));
}

}  // namespace shmbus::testing
