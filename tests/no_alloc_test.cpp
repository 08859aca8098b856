// The publish and dispatch paths allocate nothing and make no system call in the
// steady state. Allocations are counted by the replaced global operator new
// (testing/alloc_counter.hpp);
// system calls are trapped by a seccomp filter installed in a forked child after
// warm-up, which turns any system call other than exit into a counted SIGSYS.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "shmbus/bus.hpp"
#include "testing/alloc_counter.hpp"
#include "testing/test_support.hpp"

namespace shmbus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::SegmentGuard;
using testing::unique_bus_name;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

struct Pair {
  std::unique_ptr<Bus> pub;
  std::unique_ptr<Bus> sub;
  TopicId topic = kInvalidTopic;
  std::uint64_t received = 0;
};

void make_pair(Pair& p, const std::string& name) {
  BusConfig cfg;
  cfg.name = name;
  cfg.ring_capacity = {256, 256, 256, 256};
  cfg.history_depth = 16;
  cfg.max_agents = 4;
  cfg.max_topics = 32;
  auto pub = Bus::create(cfg, AgentOptions{.name = "pub"});
  ASSERT_TRUE(pub) << pub.message();
  p.pub = std::make_unique<Bus>(std::move(pub.value()));
  // Handler calls are still timed (a vDSO clock read each), but against a budget no preempted
  // call on a loaded machine exceeds: a slow-handler report would add a sys.error event.
  auto sub =
      Bus::attach(name, AgentOptions{.name = "sub", .handler_budget = std::chrono::seconds(1)});
  ASSERT_TRUE(sub) << sub.message();
  p.sub = std::make_unique<Bus>(std::move(sub.value()));
  auto t = p.pub->register_topic("hot.path", 64);
  ASSERT_TRUE(t);
  p.topic = *t;
  ASSERT_TRUE(p.sub->on("hot.*", [&p](const EventView& e) { p.received += e.payload.size(); }));
}

// Events one round_trip publishes: one per priority, one claim, a batch and a try-batch.
constexpr std::uint64_t kBatch = 8;
constexpr std::uint64_t kTryBatch = 4;
constexpr std::uint64_t kPerRound = kPriorityCount + 1 + kBatch + kTryBatch;

// One publish on every priority, one in-place claim, a batch publish and a try one, then
// dispatch them all.
bool round_trip(Pair& p, std::uint64_t i) {
  std::byte payload[64] = {};
  payload[0] = static_cast<std::byte>(i);
  for (std::uint32_t pr = 0; pr < kPriorityCount; ++pr) {
    if (p.pub->publish(p.topic, payload, sizeof(payload), static_cast<Priority>(pr)) !=
        PublishStatus::kOk) {
      return false;
    }
  }
  Claim c = p.pub->claim(p.topic, 64, Priority::kHigh);
  if (!c.ok()) return false;
  c.data()[0] = std::byte{1};
  if (p.pub->commit(c) != PublishStatus::kOk) return false;
  std::byte batch[kBatch * 64] = {};
  batch[0] = static_cast<std::byte>(i);
  const PublishBatchResult b = p.pub->publish_batch(p.topic, batch, 64, kBatch);
  if (b.status != PublishStatus::kOk || b.published != kBatch) return false;
  const PublishBatchResult t =
      p.pub->try_publish_batch(p.topic, batch, 64, kTryBatch, Priority::kLow);
  if (t.status != PublishStatus::kOk || t.published != kTryBatch) return false;
  return p.sub->poll() == kPerRound;
}

TEST(NoAllocTest, PublishAndDispatchAllocateNothingInSteadyState) {
  const std::string name = unique_bus_name("noalloc");
  SegmentGuard guard(name);
  Pair p;
  make_pair(p, name);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(round_trip(p, i));  // warm-up
  const std::uint64_t before = testing::allocations();
  bool ok = true;
  for (std::uint64_t i = 0; i < 100'000 && ok; ++i) ok = round_trip(p, i);
  const std::uint64_t allocated = testing::allocations() - before;
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(p.received, (1000u + 100'000u) * kPerRound * 64u);
}

TEST(NoAllocTest, CountingAllocatorSeesAllocations) {
  // The counter itself works: a path that does allocate is seen.
  const std::uint64_t before = testing::allocations();
  auto* v = new std::vector<int>(100);
  const std::uint64_t allocated = testing::allocations() - before;
  delete v;
  EXPECT_GE(allocated, 1u);
}

volatile std::sig_atomic_t g_trapped = 0;
volatile long g_last_syscall = -1;

void on_sigsys(int, siginfo_t* info, void* ctx) {
  g_trapped = g_trapped + 1;
  g_last_syscall = info->si_syscall;
  // Make the trapped call fail with ENOSYS instead of running.
  auto* uc = static_cast<ucontext_t*>(ctx);
  uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

bool install_syscall_trap() {
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return false;
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

TEST(NoAllocTest, PublishAndDispatchMakeNoSystemCall) {
  if (kSanitized) GTEST_SKIP() << "sanitizer runtimes make their own system calls";
  const std::string name = unique_bus_name("nosys");
  SegmentGuard guard(name);
  // Exit codes: 0 ok, 1 setup failed, 2 a round trip failed, 10+n: n system calls trapped.
  Child child = Child::fork([&] {
    Pair p;
    make_pair(p, name);
    if (!p.pub || !p.sub) return 1;
    for (std::uint64_t i = 0; i < 1000; ++i) {
      if (!round_trip(p, i)) return 1;
    }
    if (!install_syscall_trap()) return 1;
    for (std::uint64_t i = 0; i < 100'000; ++i) {
      if (!round_trip(p, i)) return 2;
    }
    const int trapped = g_trapped;
    return trapped == 0 ? 0 : 10 + (trapped > 100 ? 100 : trapped);
  });
  EXPECT_EQ(child.wait(60s), 0);
}

TEST(NoAllocTest, SyscallTrapCatchesASystemCall) {
  if (kSanitized) GTEST_SKIP() << "sanitizer runtimes make their own system calls";
  // The trap itself works: a getppid() after installing it is counted.
  Child child = Child::fork([] {
    if (!install_syscall_trap()) return 1;
    (void)syscall(SYS_getppid);
    return g_trapped == 1 ? 0 : 3;
  });
  EXPECT_EQ(child.wait(10s), 0);
}

}  // namespace
}  // namespace shmbus
