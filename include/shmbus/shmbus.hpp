// The public API of the core library (shmbus::shmbus) in one include: the bus handle, events
// and topics, the trading event catalogue, barriers, dead letters, statistics and inspection.
// The supervisor is a separate library (shmbus::supervisor): include shmbus/supervisor.hpp.
#pragma once

#include "shmbus/barrier.hpp"
#include "shmbus/barrier_types.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "shmbus/config.hpp"
#include "shmbus/dead_letters.hpp"
#include "shmbus/event.hpp"
#include "shmbus/fields.hpp"
#include "shmbus/fixed_text.hpp"
#include "shmbus/handler.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/priority.hpp"
#include "shmbus/result.hpp"
#include "shmbus/stats.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"
#include "shmbus/topic.hpp"
