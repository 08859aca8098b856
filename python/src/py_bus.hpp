// The Python side of a Bus: PyBus wraps shmbus::Bus (topics cached by name and id, publishing
// from bytes, buffers and dicts, Python handlers run under the GIL with the dispatcher waiting
// without it), PyEvent is what a handler receives (a zero-copy read-only view valid during the
// call, copied on request), PyBarrier wraps a Barrier handle bound to its PyBus.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ring_alias.hpp"
#include "shmbus/barrier.hpp"
#include "shmbus/bus.hpp"
#include "shmbus/catalog.hpp"
#include "shmbus/dead_letters.hpp"
#include "shmbus/inspect.hpp"
#include "shmbus/stats.hpp"

namespace shmbus::py {

namespace pyb = pybind11;

/// One event as Python sees it. A handler's event borrows the ring slot (`view_`) and is
/// invalidated when the handler returns: its memoryviews are released and `payload` raises; its
/// metadata stays readable. copy() and events from wait_for/history own their bytes.
///
/// The event is the exporter of its payload (buffer protocol: memoryview(ev), ev.payload,
/// ev.as_numpy(), np.frombuffer(ev)). A borrowed event exports the payload through the bus's
/// RingAlias and counts its exports; one still held when the handler returns (a NumPy array
/// kept in a list) is frozen: it reads a private copy of the event taken at that moment, never
/// the recycled slot, and a RuntimeWarning names the topic.
class PyEvent {
 public:
  static PyEvent borrowed(const EventView& v, RingAlias* alias);
  static PyEvent owned(OwnedEvent&& e);
  /// Makes this (unreferenced, invalidated) event borrow `v`, as borrowed() would.
  void rebind(const EventView& v, RingAlias* alias);

  TopicId topic = kInvalidTopic;
  std::string topic_name;
  Priority priority = Priority::kNormal;
  std::uint16_t flags = 0;
  std::uint16_t schema_version = 0;
  EventId id;
  std::uint64_t timestamp_ns = 0;
  std::uint64_t position = 0;

  bool valid() const noexcept { return valid_; }
  std::size_t size() const noexcept { return view_.size(); }
  /// A read-only memoryview of the payload (zero-copy for a handler's event). `self` is this
  /// event's Python object: an owned event's view keeps it alive (it exports the buffer).
  pyb::object payload(pyb::handle self);
  /// The bytes the buffer protocol exports (empty once invalidated).
  std::span<const std::byte> view() const noexcept { return view_; }
  pyb::bytes bytes() const;
  PyEvent copy() const;
  /// The payload decoded through the catalogue type of the topic (dict); Error when the topic
  /// is not in the catalogue.
  pyb::dict decode() const;
  /// The payload as a one-element NumPy structured array of the catalogue dtype (read-only;
  /// zero-copy, so for a handler's event valid during the handler only).
  pyb::object as_numpy(pyb::handle self);
  /// Ends a borrowed event: releases the memoryviews handed out, so later use raises, and
  /// freezes an export still held (see the class comment).
  void invalidate();
  /// bf_getbuffer / bf_releasebuffer of shmbus.Event (read-only, 1-D bytes).
  int get_buffer(PyObject* self, Py_buffer* view, int buffer_flags);
  void release_buffer() noexcept;

 private:
  void check_valid() const;
  /// The metadata (every public field) of an EventView, OwnedEvent or another PyEvent.
  template <typename Source>
  void take_metadata(const Source& s);
  /// An event owning `payload`.
  static PyEvent owning(std::vector<std::byte>&& payload);
  std::span<const std::byte> view_;
  std::vector<std::byte> owned_;
  std::vector<pyb::object> views_;       // memoryviews handed out, released by invalidate()
  RingAlias* ring_alias_ = nullptr;      // the bus's, while borrowed and valid
  std::shared_ptr<AliasMapping> alias_;  // what borrowed exports read through
  const std::byte* export_ = nullptr;    // the address exported (alias or owned_)
  std::size_t export_size_ = 0;
  int exports_ = 0;  // buffers exported and not yet released (GIL held)
  bool valid_ = true;
  bool borrowed_ = false;
};

/// A topic as the binding caches it.
struct TopicEntry {
  TopicId id = kInvalidTopic;
  std::uint32_t size = 0;  ///< 0: variable-size bytes
  const catalog::CatalogEntry* entry = nullptr;
  std::string name;
};

class PyBarrier;

class PyBus {
 public:
  explicit PyBus(Bus&& bus);
  ~PyBus();
  PyBus(const PyBus&) = delete;
  PyBus& operator=(const PyBus&) = delete;

  // ---- topics and publishing ----
  const TopicEntry& topic(pyb::handle topic);
  TopicId register_topic(const std::string& name, std::uint32_t size, std::uint16_t schema);
  /// Publishes one event: payload is a dict (catalogue topics) or any contiguous buffer.
  PublishStatus publish(pyb::handle topic, pyb::handle payload, Priority priority);
  /// Publishes every item of a contiguous buffer of fixed-size payloads (a NumPy structured
  /// array, a memoryview); stops at the first outcome other than kOk. Returns events published.
  std::size_t publish_batch(pyb::handle topic, pyb::handle items, Priority priority,
                            std::size_t item_size);
  /// One event; keeps the GIL unless the ring is full and publishing must wait.
  PublishStatus publish_bytes(TopicId id, const void* data, std::size_t size, Priority priority);

  // ---- subscribing ----
  SubscriptionId on(const std::string& pattern, pyb::object handler, const std::string& name,
                    bool once);
  SubscriptionId on_any(pyb::object handler, const std::string& name);
  void off(SubscriptionId id);
  SubscriptionId on_health(pyb::object handler);
  SubscriptionId on_backpressure(pyb::object handler);
  void on_gap(pyb::object handler);
  PyEvent wait_for(const std::string& pattern, std::optional<double> timeout_s,
                   pyb::object predicate);

  // ---- dispatching (the GIL is released while waiting) ----
  std::size_t poll(std::size_t max_events);
  std::size_t poll_wait(std::size_t max_events, double timeout_s);
  void run_for(double seconds);
  void run();
  void stop() noexcept;
  /// For the asyncio pump (shmbus/__init__.py): Bus::run() with the GIL released, in one
  /// piece (no slices), until wake() or a handler's KeyboardInterrupt/SystemExit.
  void run_until_woken();
  /// Makes run_until_woken() return (Bus::stop); any thread.
  void wake() noexcept {
    if (bus_) bus_->stop();
  }

  // ---- information ----
  std::vector<PyEvent> history(const std::string& pattern, std::size_t limit);
  pyb::dict stats();
  pyb::dict status();
  pyb::list dead_letters();
  std::string bus_name() const;
  std::string agent_name() const;
  std::uint32_t agent_index() const;
  std::uint64_t events_missed() const;
  void heartbeat();
  bool closed() const noexcept { return !bus_.has_value(); }
  /// Payload views that handlers kept past their return (each frozen to a private copy).
  std::uint64_t views_frozen() const noexcept { return alias_.frozen_count(); }
  /// The last failure of a Python handler on this bus (dict), None before any.
  pyb::object last_handler_error() const { return last_failure_; }
  void close();

  // ---- barriers ----
  void create_barrier(const std::string& name, const std::vector<std::string>& participants,
                      double timeout_s);
  void remove_barrier(const std::string& name);
  std::vector<pyb::dict> list_barriers();

  Bus& bus();  ///< raises shmbus.Error(state) when closed
  void add_barrier(PyBarrier* b) { barriers_.push_back(b); }
  void drop_barrier(PyBarrier* b);

  /// Called on the dispatching thread, under the GIL, when a handler raised KeyboardInterrupt or
  /// SystemExit: dispatching stops and the exception is raised from the dispatching call.
  void defer(pyb::error_already_set&& e);

 private:
  struct Dispatching;  // RAII: counts a dispatching call (close() refuses meanwhile)
  /// Runs `wait`, a call into the dispatcher, as Dispatching with the GIL released, then raises
  /// what a handler deferred; returns what `wait` returned.
  template <typename F>
  auto dispatching(F&& wait);
  /// run() (no limit) and run_for(seconds): Bus::run_for in slices, signals checked between.
  void run_slices(std::optional<double> seconds);
  Handler make_handler(pyb::object fn, const std::string& name);
  /// The Event object a handler gets for `v` (`event` its PyEvent): the last one, rebound,
  /// when nothing else holds it. GIL held.
  pyb::object event_for(const EventView& v, PyEvent*& event);
  /// A handler raised: `short_text` gets what sys.error and the dead letter carry; the full
  /// (bounded) traceback goes to last_handler_error and the "shmbus" logger.
  void handler_failed(const std::string& handler, const EventView& v, pyb::error_already_set& e,
                      std::string& short_text);
  void raise_deferred();

  std::optional<Bus> bus_;
  RingAlias alias_;  // the segment as handlers' payload views see it
  std::unordered_map<std::string, TopicEntry> by_name_;
  std::vector<TopicEntry> by_id_;
  std::vector<PyBarrier*> barriers_;
  std::optional<pyb::error_already_set> deferred_;
  pyb::object last_failure_ = pyb::none();
  pyb::object spare_event_;  // the Event last handed to a handler
  PyEvent* spare_ = nullptr;
  pyb::object last_topic_obj_;              // the topic object of the last by-name lookup
  const TopicEntry* last_topic_ = nullptr;  // its entry in by_name_
  std::atomic<int> dispatching_{0};
  std::atomic<bool> stop_requested_{false};  // ends run()/run_for() between slices
};

/// A Barrier handle on a PyBus; keeps the PyBus alive, and is emptied when that bus closes.
class PyBarrier {
 public:
  PyBarrier(pyb::object bus_obj, PyBus& bus, Barrier&& b);
  ~PyBarrier();
  PyBarrier(const PyBarrier&) = delete;
  PyBarrier& operator=(const PyBarrier&) = delete;

  std::string name();
  bool is_participant();
  bool is_waiter();
  std::uint64_t round();
  std::string arrive(pyb::handle signal, std::optional<std::uint64_t> generation);
  std::uint64_t wait_open(double timeout_s);
  void become_waiter();
  pyb::dict wait(double timeout_s);
  pyb::dict status();
  void reset() noexcept { b_.reset(); }

 private:
  Barrier& b();
  pyb::object bus_obj_;
  PyBus* bus_;
  std::optional<Barrier> b_;
};

/// Dicts of the C++ status structs, shared by PyBus and the module functions.
pyb::dict barrier_status_dict(const BarrierStatus& s);
pyb::dict stats_dict(const BusStats& s);
pyb::dict snapshot_dict(const BusSnapshot& s);
pyb::dict dead_letter_dict(const DeadLetter& d);

}  // namespace shmbus::py
