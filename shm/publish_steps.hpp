// Test-only pause point in Publisher::publish, between filling a claimed slot and committing
// it: the window a kill must hit to leave a claimed, uncommitted slot for the supervisor to
// repair. Natural kills land there about once in 700; the chaos tool (--claim-delay-us) sets a
// hook that sleeps there so the repair path runs hundreds of times per run. Production code
// never sets one; an unset hook costs one relaxed load and a predicted branch per publish.
#pragma once

namespace shmbus::detail {

/// Called with the slot claimed and filled, before the commit.
using PublishStepHook = void (*)() noexcept;

/// Sets (or, with nullptr, clears) the hook for this process.
void set_publish_step_hook(PublishStepHook hook) noexcept;

}  // namespace shmbus::detail
