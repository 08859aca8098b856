// Test-only pause points in Segment::create, at the steps where the order of two creating
// processes matters. A test process sets a hook (for example one that stops itself with
// SIGSTOP) so that a second creator runs at exactly that point; production code never sets
// one, and an unset hook costs one relaxed load on a cold path.
#pragma once

#include <cstdint>

namespace shmbus::detail {

enum class CreateStep : std::uint8_t {
  /// The exclusive create succeeded; the creator lock is not yet taken.
  kCreatedExclusive,
  /// The creator lock on the new file is held and the name checked to still be ours; the
  /// header is not yet written.
  kLockedNew,
  /// An existing segment was judged stale and its creator lock taken; it is not yet unlinked.
  kLockedStale,
};

using CreateStepHook = void (*)(CreateStep step);

/// Sets (or, with nullptr, clears) the hook for this process.
void set_create_step_hook(CreateStepHook hook) noexcept;

}  // namespace shmbus::detail
