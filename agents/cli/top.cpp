// `shmbus top`: redraws rings, agents, backpressure levels, latency and barriers every period
// from inspect_bus. Reads keys in non-canonical mode (termios) while stdin is a terminal, and
// restores the terminal on every way out ('q', --iterations, SIGINT/SIGTERM).
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "commands.hpp"
#include "render_text.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/stats.hpp"

namespace shmbus::cli {

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

/// Non-canonical, no-echo input for the lifetime of the guard (ISIG stays on: Ctrl-C works).
class RawTerminal {
 public:
  RawTerminal() {
    if (isatty(STDIN_FILENO) == 0 || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

/// SIGINT/SIGTERM set g_stop (no SA_RESTART, so poll returns); the old handlers come back after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

void write_all(const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

/// Waits up to `ms` for a key; true when the user asked to quit ('q' or 'Q').
bool wait_for_quit(bool keys, int ms) {
  pollfd pfd{STDIN_FILENO, POLLIN, 0};
  const int n = ::poll(keys ? &pfd : nullptr, keys ? 1 : 0, ms);
  if (n <= 0 || !keys) return false;
  char buf[16];
  const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
  for (ssize_t i = 0; i < got; ++i) {
    if (buf[i] == 'q' || buf[i] == 'Q') return true;
  }
  return false;
}

/// Per-agent delivery latency over the frame: this frame's histograms less the previous
/// frame's (same agent index and name; a new incarnation starts from zero).
std::vector<AgentLatency> latency_since(const BusStats& now, const BusStats* before) {
  std::vector<AgentLatency> out;
  for (const AgentStats& a : now.agents) {
    LatencyHistogram h = a.latency;
    if (before != nullptr) {
      for (const AgentStats& b : before->agents) {
        if (b.index != a.index || b.name != a.name) continue;
        for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
          h.counts[i] = h.counts[i] >= b.latency.counts[i] ? h.counts[i] - b.latency.counts[i] : 0;
        }
      }
    }
    out.push_back({a.index, h.total(), h.percentile_ns(0.50), h.percentile_ns(0.99)});
  }
  return out;
}

}  // namespace

int run_top(const TopOptions& options) {
  g_stop = 0;
  StopSignals signals;
  RawTerminal terminal;
  const bool screen = isatty(STDOUT_FILENO) != 0;
  if (screen) write_all("\x1b[?25l");  // hide the cursor while redrawing
  std::optional<BusSnapshot> previous;
  std::optional<BusStats> previous_stats;
  int rc = kExitOk;
  for (std::uint64_t frame = 0; g_stop == 0; ++frame) {
    auto snap = inspect_bus(options.bus);
    if (!snap) {
      if (screen) write_all("\x1b[?25h\n");
      return report_error(snap.error());
    }
    std::string out = screen ? "\x1b[H\x1b[2J" : (frame == 0 ? "" : "\n");
    // Latency histograms come from the stats reader; without them the column shows "-".
    std::vector<AgentLatency> latency;
    auto stats = read_stats(options.bus);
    if (stats) latency = latency_since(*stats, previous_stats ? &*previous_stats : nullptr);
    out += render_top(*snap, previous ? &*previous : nullptr, latency);
    write_all(out);
    previous = std::move(snap.value());
    if (stats) previous_stats = std::move(stats.value());
    if (options.iterations != 0 && frame + 1 >= options.iterations) break;
    if (wait_for_quit(terminal.active(), static_cast<int>(options.period.count()))) break;
  }
  if (screen) write_all("\x1b[?25h");
  return rc;
}

}  // namespace shmbus::cli
