// The whole public API in one include: the bus handle, events and topics, the bus's own sys.*
// protocol, the trading event catalogue, barriers, dead letters, statistics, inspection and the
// supervisor.
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
#include "shmbus/supervisor.hpp"
#include "shmbus/supervisor_config.hpp"
#include "shmbus/sys_events.hpp"
#include "shmbus/topic.hpp"
