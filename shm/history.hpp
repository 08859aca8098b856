// Ring history: the last events still readable in each priority ring (the
// history reserve keeps history_depth of them behind the slowest tethered
// cursor), copied out like an untethered reader does. Used by Bus::history and
// by tools that map the segment without attaching. Any thread; cold path.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "shm/segment.hpp"
#include "shm/topic_registry.hpp"
#include "shmbus/event.hpp"
#include "shmbus/result.hpp"

namespace shmbus::detail {

/// Up to `limit` most recent committed events per ring whose topic matches `pattern`, merged
/// across rings in publish-timestamp order (ties: higher priority first); within a ring they
/// keep ring order. Each is flagged kFlagFromHistory. An event overwritten while being copied
/// ends the scan of its ring (everything older is gone too). kInvalidArgument on a bad pattern.
Result<std::vector<OwnedEvent>> read_history(Segment& seg, TopicRegistry& topics,
                                             std::string_view pattern, std::size_t limit);

}  // namespace shmbus::detail
