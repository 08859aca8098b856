// The transport registry. Each transport lives in its own file and exports one
// factory function returning make_transport_entry<ItsClass>(info).
#include "transport_registry.hpp"

namespace shmbus::bench {

// ---- peers (always built) ---------------------------------------------------------
TransportEntry cache_line_transport_entry();         // cache_line_transport.cpp
TransportEntry spsc_ring_transport_entry();          // spsc_ring_transport.cpp (the floor)
TransportEntry spsc_futex_transport_entry();         // spsc_futex_transport.cpp
TransportEntry futex_wake_transport_entry();         // futex_wake_transport.cpp
TransportEntry boost_mq_blocking_transport_entry();  // boost_mq_transport.cpp
TransportEntry boost_mq_poll_transport_entry();      // boost_mq_transport.cpp
TransportEntry uds_seqpacket_transport_entry();      // uds_seqpacket_transport.cpp

// ---- peers that depend on an optional library -------------------------------------
#ifdef SHMBUS_BENCH_HAVE_ZMQ
TransportEntry zmq_ipc_transport_entry();  // zmq_ipc_transport.cpp
#endif

// ---- shmbus itself ----------------------------------------------------------------
// bench/CMakeLists.txt defines SHMBUS_BENCH_HAVE_SHMBUS and compiles
// bench/ipc/shmbus_transport.cpp (linked with the `shmbus` library) when that
// file exists. It must define the function below (one entry per wait strategy
// is fine: add more declarations and lines here).
#ifdef SHMBUS_BENCH_HAVE_SHMBUS
TransportEntry shmbus_transport_entry();        // shmbus_transport.cpp: busy-spin
TransportEntry shmbus_yield_transport_entry();  // spin-then-yield
TransportEntry shmbus_block_transport_entry();  // futex
#endif

const std::vector<TransportEntry>& transport_registry() {
  static const std::vector<TransportEntry> entries = [] {
    std::vector<TransportEntry> all;
#ifdef SHMBUS_BENCH_HAVE_SHMBUS
    all.push_back(shmbus_transport_entry());
    all.push_back(shmbus_yield_transport_entry());
    all.push_back(shmbus_block_transport_entry());
#endif
    all.push_back(cache_line_transport_entry());
    all.push_back(spsc_ring_transport_entry());
    all.push_back(spsc_futex_transport_entry());
    all.push_back(futex_wake_transport_entry());
    all.push_back(boost_mq_blocking_transport_entry());
    all.push_back(boost_mq_poll_transport_entry());
    all.push_back(uds_seqpacket_transport_entry());
#ifdef SHMBUS_BENCH_HAVE_ZMQ
    all.push_back(zmq_ipc_transport_entry());
#endif
    return all;
  }();
  return entries;
}

const std::vector<std::string_view>& transports_not_built() {
  static const std::vector<std::string_view> missing = [] {
    std::vector<std::string_view> list;
#ifndef SHMBUS_BENCH_HAVE_ZMQ
    list.push_back("zmq-ipc: libzmq was not found by pkg-config when this binary was configured");
#endif
#ifndef SHMBUS_BENCH_HAVE_SHMBUS
    list.push_back(
        "shmbus: bench/ipc/shmbus_transport.cpp not compiled in (no such file yet, or no "
        "`shmbus` library target)");
#endif
    return list;
  }();
  return missing;
}

}  // namespace shmbus::bench
