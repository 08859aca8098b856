// The extension module shmbus._shmbus: bindings of PyBus, PyEvent, PyBarrier and the module
// functions (attach, create, catalogue, inspection). python/shmbus/__init__.py re-exports them
// and adds asyncio; __init__.pyi documents them for type checkers.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <memory>

#include "py_bus.hpp"
#include "py_durable.hpp"
#include "py_errors.hpp"
#include "py_fields.hpp"
#include "py_journal.hpp"

namespace pyb = pybind11;
using namespace pybind11::literals;

namespace shmbus::py {
namespace {

WaitStrategy parse_wait(const std::string& s) {
  if (s == "busy_spin") return WaitStrategy::kBusySpin;
  if (s == "spin_yield") return WaitStrategy::kSpinYield;
  if (s == "block") return WaitStrategy::kBlock;
  raise_error(Errc::kInvalidArgument,
              "wait must be 'busy_spin', 'spin_yield' or 'block', not '" + s + "'");
}

AgentOptions agent_options(const std::string& agent_name, const std::string& wait,
                           bool start_from_history, std::uint32_t max_handler_failures,
                           double handler_budget_s, double publish_timeout_s) {
  AgentOptions o;
  o.name = agent_name;
  o.wait = parse_wait(wait);
  o.start_from_history = start_from_history;
  o.max_handler_failures = max_handler_failures;
  o.handler_budget = std::chrono::nanoseconds(static_cast<std::int64_t>(handler_budget_s * 1e9));
  o.publish_timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(publish_timeout_s * 1e9));
  return o;
}

const catalog::CatalogEntry& entry_or_raise(const std::string& topic) {
  const catalog::CatalogEntry* e = catalog_entry(topic);
  if (e == nullptr) raise_error(Errc::kNotFound, "topic " + topic + " has no catalogue type");
  return *e;
}

// publish returns one of these (no allocation per call): the PublishStatus members.
std::array<pyb::object, 10>& status_objects() {
  static auto* objs = new std::array<pyb::object, 10>();  // outlives interpreter teardown
  return *objs;
}

PyTypeObject* g_bus_type = nullptr;  // shmbus.Bus, set at module init

/// The PyBus of a Bus object. pybind11's cast looks the C++ type up in a hash table keyed by
/// type name on every call (a tenth of a publish); a Bus object of exactly our type holds the
/// pointer in its simple layout, so the hot calls read it from there.
PyBus& bus_of(PyObject* self) {
  if (Py_TYPE(self) == g_bus_type) {
    auto* inst = reinterpret_cast<pyb::detail::instance*>(self);
    if (inst->simple_layout && inst->simple_value_holder[0] != nullptr) {
      return *static_cast<PyBus*>(inst->simple_value_holder[0]);
    }
  }
  return pyb::handle(self).cast<PyBus&>();
}

/// Bus.publish(topic, payload, priority=Priority.NORMAL), positional or by keyword.
PyObject* fast_publish(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  try {
    std::array<PyObject*, 3> a{nullptr, nullptr, nullptr};  // topic, payload, priority
    if (nargs > 3) throw pyb::type_error("publish() takes at most 3 arguments");
    for (Py_ssize_t i = 0; i < nargs; ++i) a[static_cast<std::size_t>(i)] = args[i];
    const Py_ssize_t nkw = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, i);
      std::size_t slot = 3;
      if (PyUnicode_CompareWithASCIIString(key, "topic") == 0) slot = 0;
      if (PyUnicode_CompareWithASCIIString(key, "payload") == 0) slot = 1;
      if (PyUnicode_CompareWithASCIIString(key, "priority") == 0) slot = 2;
      if (slot == 3 || a[slot] != nullptr) {
        throw pyb::type_error("publish() got an unexpected or repeated keyword argument '" +
                              pyb::reinterpret_borrow<pyb::str>(key).cast<std::string>() + "'");
      }
      a[slot] = args[nargs + i];
    }
    if (a[0] == nullptr || a[1] == nullptr) {
      throw pyb::type_error("publish(topic, payload, priority=Priority.NORMAL): missing argument");
    }
    Priority priority = Priority::kNormal;
    if (a[2] != nullptr && a[2] != Py_None) priority = pyb::handle(a[2]).cast<Priority>();
    PyBus& bus = bus_of(self);
    const PublishStatus st = bus.publish(a[0], a[1], priority);
    return status_objects()[static_cast<std::size_t>(st)].inc_ref().ptr();
  } catch (pyb::error_already_set& e) {
    e.restore();
  } catch (pyb::cast_error&) {
    PyErr_SetString(PyExc_TypeError, "publish(): priority must be a shmbus.Priority");
  } catch (pyb::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

/// PublishStatus truth, the type's nb_bool slot: `if not bus.publish(...)` is the idiom of a
/// publishing loop, and the __bool__ that pybind11 binds went through its generic dispatcher
/// (a type lookup by name, argument casters, heap allocations): a quarter of a cross-process
/// publish loop's time. publish returns one of status_objects(): those answer by identity.
int status_bool(PyObject* self) {
  const auto& objs = status_objects();
  for (std::size_t i = 0; i < objs.size(); ++i) {
    if (self == objs[i].ptr()) return i == static_cast<std::size_t>(PublishStatus::kOk) ? 1 : 0;
  }
  try {  // another instance of the enum (PublishStatus.OK, PublishStatus(0), a copy)
    return pyb::handle(self).cast<PublishStatus>() == PublishStatus::kOk ? 1 : 0;
  } catch (const std::exception&) {
    PyErr_SetString(PyExc_TypeError, "shmbus.PublishStatus: not initialised");
    return -1;
  }
}

int event_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  PyEvent* e = nullptr;
  try {
    e = &pyb::handle(self).cast<PyEvent&>();
  } catch (const std::exception&) {
    PyErr_SetString(PyExc_BufferError, "shmbus.Event: not initialised");
    view->obj = nullptr;
    return -1;
  }
  return e->get_buffer(self, view, flags);
}

void event_releasebuffer(PyObject* self, Py_buffer*) {
  try {
    pyb::handle(self).cast<PyEvent&>().release_buffer();
  } catch (const std::exception&) {
    PyErr_Clear();
  }
}

}  // namespace
}  // namespace shmbus::py

PYBIND11_MODULE(_shmbus, m) {
  using namespace shmbus;
  using namespace shmbus::py;
  m.doc() = "shmbus: a shared-memory event bus across processes (C++ core, Python binding)";
  register_errors(m);
  register_journal(m);
  register_durable(m);

  pyb::enum_<Priority>(m, "Priority", "Event priority; each has its own ring, drained in order.")
      .value("CRITICAL", Priority::kCritical)
      .value("HIGH", Priority::kHigh)
      .value("NORMAL", Priority::kNormal)
      .value("LOW", Priority::kLow);

  pyb::enum_<PublishStatus> status_class(
      m, "PublishStatus",
      "Outcome of publish. Only OK means 'will be delivered'; truthy only "
      "for OK. Misuse (wrong size, closed bus) raises instead.");
  status_class.value("OK", PublishStatus::kOk)
      .value("FULL", PublishStatus::kFull)
      .value("TIMEOUT", PublishStatus::kTimeout)
      .value("SHED", PublishStatus::kShed)
      .value("RATE_LIMITED", PublishStatus::kRateLimited)
      .value("TOO_LARGE", PublishStatus::kTooLarge)
      .value("UNKNOWN_TOPIC", PublishStatus::kUnknownTopic)
      .value("ABORTED", PublishStatus::kAborted)
      .value("CLOSED", PublishStatus::kClosed)
      .value("BAD_SIZE", PublishStatus::kBadSize)
      .def("__bool__", [](PublishStatus s) { return s == PublishStatus::kOk; });
  for (std::size_t i = 0; i < status_objects().size(); ++i) {
    status_objects()[i] = pyb::cast(static_cast<PublishStatus>(i));
  }
  // After the def: setting __bool__ on the type installed CPython's slot wrapper, which calls
  // it through pybind11; the slot itself is what PyObject_IsTrue (`if`, `not`) calls.
  reinterpret_cast<PyTypeObject*>(status_class.ptr())->tp_as_number->nb_bool = status_bool;
  PyType_Modified(reinterpret_cast<PyTypeObject*>(status_class.ptr()));

  pyb::class_<PyEvent> event_class(m, "Event",
                                   "One event. In a handler its payload is a zero-copy view into "
                                   "the ring, valid only during the call; copy() keeps it. A "
                                   "view kept past the handler reads a private copy taken as "
                                   "the handler returned (with a RuntimeWarning).",
                                   pyb::buffer_protocol());
  // The Event exports its payload read-only through its own slots (not pybind11's def_buffer),
  // so a borrowed event counts the exports that outlive its handler (PyEvent::invalidate).
  auto* event_type = reinterpret_cast<PyHeapTypeObject*>(event_class.ptr());
  event_type->as_buffer.bf_getbuffer = event_getbuffer;
  event_type->as_buffer.bf_releasebuffer = event_releasebuffer;
  event_class.def_readonly("topic", &PyEvent::topic, "topic id")
      .def_readonly("topic_name", &PyEvent::topic_name)
      .def_readonly("priority", &PyEvent::priority)
      .def_readonly("flags", &PyEvent::flags)
      .def_readonly("schema_version", &PyEvent::schema_version)
      .def_property_readonly("producer", [](const PyEvent& e) { return e.id.producer; })
      .def_property_readonly("producer_epoch", [](const PyEvent& e) { return e.id.producer_epoch; })
      .def_property_readonly(
          "sequence", [](const PyEvent& e) { return e.id.sequence; },
          "per-producer sequence (FIFO per producer)")
      .def_readonly("timestamp_ns", &PyEvent::timestamp_ns, "CLOCK_MONOTONIC at publish")
      .def_readonly("position", &PyEvent::position)
      .def_property_readonly("valid", &PyEvent::valid)
      .def_property_readonly(
          "payload", [](pyb::object self) { return self.cast<PyEvent&>().payload(self); },
          "read-only memoryview of the payload")
      .def("bytes", &PyEvent::bytes, "the payload copied into bytes")
      .def("copy", &PyEvent::copy, "an Event that owns a copy of the payload")
      .def("decode", &PyEvent::decode, "the payload as a dict, through the catalogue type")
      .def(
          "as_numpy", [](pyb::object self) { return self.cast<PyEvent&>().as_numpy(self); },
          "the payload as a 1-element read-only NumPy structured array (zero-copy)")
      .def("__len__", &PyEvent::size)
      .def("__repr__", [](const PyEvent& e) {
        return "<shmbus.Event " + e.topic_name + " producer=" + std::to_string(e.id.producer) +
               " seq=" + std::to_string(e.id.sequence) + " " + std::to_string(e.size()) + "B>";
      });

  pyb::class_<PyBarrier>(m, "Barrier", "A handle on one barrier, bound to its Bus.")
      .def_property_readonly("name", &PyBarrier::name)
      .def_property_readonly("is_participant", &PyBarrier::is_participant)
      .def_property_readonly("is_waiter", &PyBarrier::is_waiter)
      .def_property_readonly("round", &PyBarrier::round, "the round arrive() targets")
      .def("arrive", &PyBarrier::arrive, "signal"_a, "generation"_a = pyb::none(),
           "Arrives with a signal (bytes-like). Returns 'accepted', 'late', 'already_arrived', "
           "'not_open', 'not_participant', 'unknown_barrier' or 'too_large'.")
      .def("wait_open", &PyBarrier::wait_open, "timeout"_a = 1.0,
           "Waits until round() is open; returns its generation (GIL released).")
      .def("become_waiter", &PyBarrier::become_waiter)
      .def("wait", &PyBarrier::wait, "timeout"_a = 1.0,
           "Waiter: the next closed round as a dict (GIL released); TimeoutError if none.")
      .def("status", &PyBarrier::status);

  pyb::class_<PyBus> bus_class(m, "Bus", "One process's agent on a bus.");
  bus_class
      .def("publish_batch", &PyBus::publish_batch, "topic"_a, "items"_a,
           "priority"_a = Priority::kNormal, "item_size"_a = 0)
      .def(
          "topic", [](PyBus& b, pyb::handle t) { return b.topic(t).id; }, "topic"_a,
          "The id of a topic (registered on first use: catalogue topics with their type).")
      .def("register_topic", &PyBus::register_topic, "name"_a, "payload_size"_a = 0,
           "schema_version"_a = 0)
      .def(
          "on",
          [](PyBus& b, const std::string& pattern, pyb::object handler, const std::string& name) {
            return b.on(pattern, std::move(handler), name, false);
          },
          "pattern"_a, "handler"_a, "name"_a = "")
      .def(
          "once",
          [](PyBus& b, const std::string& pattern, pyb::object handler, const std::string& name) {
            return b.on(pattern, std::move(handler), name, true);
          },
          "pattern"_a, "handler"_a, "name"_a = "")
      .def("on_any", &PyBus::on_any, "handler"_a, "name"_a = "")
      .def("off", &PyBus::off, "subscription"_a)
      .def("on_health", &PyBus::on_health, "handler"_a)
      .def("on_backpressure", &PyBus::on_backpressure, "handler"_a)
      .def("on_gap", &PyBus::on_gap, "handler"_a)
      .def("wait_for", &PyBus::wait_for, "pattern"_a, "timeout"_a = pyb::none(),
           "predicate"_a = pyb::none())
      .def("poll", &PyBus::poll, "max_events"_a = 1u << 20)
      .def("poll_wait", &PyBus::poll_wait, "max_events"_a = 1u << 20, "timeout"_a = 0.1)
      .def("run_for", &PyBus::run_for, "seconds"_a)
      .def("run", &PyBus::run)
      .def("stop", &PyBus::stop)
      .def("_run_until_woken", &PyBus::run_until_woken)
      .def("_wake", &PyBus::wake)
      .def("history", &PyBus::history, "pattern"_a = "*", "limit"_a = 256)
      .def("stats", &PyBus::stats)
      .def("status", &PyBus::status)
      .def("dead_letters", &PyBus::dead_letters)
      .def_property_readonly("bus_name", &PyBus::bus_name)
      .def_property_readonly("agent_name", &PyBus::agent_name)
      .def_property_readonly("agent_index", &PyBus::agent_index)
      .def_property_readonly("events_missed", &PyBus::events_missed)
      .def_property_readonly("closed", &PyBus::closed)
      .def_property_readonly(
          "last_handler_error", &PyBus::last_handler_error,
          "the last failure of a Python handler here: dict of handler, topic, sequence, type, "
          "message, where (innermost frame), traceback (last 8 frames, <= 4096 chars) and "
          "reported (the line sys.error and the dead letter carry); None before any")
      .def_property_readonly("views_frozen", &PyBus::views_frozen,
                             "payload views handlers kept past their return (each now reads a "
                             "private copy of its event)")
      .def("heartbeat", &PyBus::heartbeat)
      .def("close", &PyBus::close)
      .def("create_barrier", &PyBus::create_barrier, "name"_a, "participants"_a, "timeout"_a)
      .def("remove_barrier", &PyBus::remove_barrier, "name"_a)
      .def("list_barriers", &PyBus::list_barriers)
      .def(
          "barrier",
          [](pyb::object self, const std::string& name) {
            PyBus& b = self.cast<PyBus&>();
            Barrier h = unwrap(Barrier::open(b.bus(), name));
            return std::make_unique<PyBarrier>(self, b, std::move(h));
          },
          "name"_a, "Opens barrier `name` (participant handle when this agent is listed).")
      .def("__enter__", [](pyb::object self) { return self; })
      .def("__exit__", [](PyBus& b, pyb::args) { b.close(); });
  g_bus_type = reinterpret_cast<PyTypeObject*>(bus_class.ptr());
  // publish is the hot call: a METH_FASTCALL method of its own skips pybind11's dispatcher.
  static PyMethodDef publish_def = {
      "publish", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_publish)),
      METH_FASTCALL | METH_KEYWORDS,
      "publish(topic, payload, priority=Priority.NORMAL) -> PublishStatus\n\n"
      "Publishes one event: payload is bytes-like of the topic's size or a dict of a catalogue "
      "topic's fields. Returns OK or a back-pressure outcome; raises shmbus.Error on misuse."};
  PyObject* descr =
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(bus_class.ptr()), &publish_def);
  if (descr == nullptr) throw pyb::error_already_set();
  bus_class.attr("publish") = pyb::reinterpret_steal<pyb::object>(descr);

  m.def(
      "attach",
      [](const std::string& bus_name, const std::string& agent_name, const std::string& wait,
         bool start_from_history, std::uint32_t max_handler_failures, double handler_budget,
         double publish_timeout) {
        AgentOptions o = agent_options(agent_name, wait, start_from_history, max_handler_failures,
                                       handler_budget, publish_timeout);
        Result<Bus> r = make_error(Errc::kState, "");
        {
          pyb::gil_scoped_release release;
          r = Bus::attach(bus_name, o);
        }
        return std::make_unique<PyBus>(unwrap(std::move(r)));
      },
      "bus_name"_a, "agent_name"_a, "wait"_a = "spin_yield", "start_from_history"_a = false,
      "max_handler_failures"_a = 5, "handler_budget"_a = 0.001, "publish_timeout"_a = 1.0);

  m.def(
      "create",
      [](const std::string& bus_name, const std::string& agent_name, const std::string& wait,
         std::uint32_t ring_capacity, std::uint32_t max_payload_bytes,
         std::uint32_t max_handler_failures) {
        BusConfig c;
        c.name = bus_name;
        if (ring_capacity != 0) c.ring_capacity.fill(ring_capacity);
        c.max_payload_bytes = max_payload_bytes;
        AgentOptions o = agent_options(agent_name, wait, false, max_handler_failures, 0.001, 1.0);
        return std::make_unique<PyBus>(unwrap(Bus::create(c, o)));
      },
      "bus_name"_a, "agent_name"_a, "wait"_a = "spin_yield", "ring_capacity"_a = 0,
      "max_payload_bytes"_a = 192, "max_handler_failures"_a = 5);

  // shmbus.Error objects for the asyncio helpers (same code and errc as the C++ ones).
  for (auto [name, code] :
       {std::pair{"_timeout_error", Errc::kTimeout}, std::pair{"_state_error", Errc::kState}}) {
    m.def(name, [code = code](const std::string& message) -> pyb::object {
      try {
        raise_error(code, message);
      } catch (pyb::error_already_set& e) {
        return e.value();
      }
      return pyb::none();
    });
  }
  m.def(
      "remove",
      [](const std::string& bus_name, bool force) { unwrap(Bus::remove(bus_name, force)); },
      "bus_name"_a, "force"_a = false);
  m.def(
      "inspect",
      [](const std::string& bus_name) { return snapshot_dict(unwrap(inspect_bus(bus_name))); },
      "bus_name"_a);
  m.def(
      "read_stats",
      [](const std::string& bus_name) { return stats_dict(unwrap(read_stats(bus_name))); },
      "bus_name"_a);
  m.def(
      "list_dead_letters",
      [](const std::string& bus_name) {
        pyb::list l;
        for (const DeadLetter& d : unwrap(list_dead_letters(bus_name))) {
          l.append(dead_letter_dict(d));
        }
        return l;
      },
      "bus_name"_a);
  m.def("catalog", []() {
    pyb::list l;
    for (const catalog::CatalogEntry& e : catalog::catalog()) {
      pyb::dict d;
      d["topic"] = std::string(e.topic);
      d["payload_size"] = e.payload_size;
      d["schema_version"] = e.schema_version;
      d["group"] = std::string(e.group);
      d["description"] = std::string(e.description);
      pyb::list fields;
      for (const FieldDesc& f : e.fields) {
        if (f.kind != FieldKind::kReserved) fields.append(std::string(f.name));
      }
      d["fields"] = fields;
      l.append(d);
    }
    return l;
  });
  m.def(
      "dtype", [](const std::string& topic) { return numpy_dtype(entry_or_raise(topic)); },
      "topic"_a);
  m.def(
      "encode",
      [](const std::string& topic, const pyb::dict& fields) {
        const catalog::CatalogEntry& e = entry_or_raise(topic);
        std::string buf(e.payload_size, '\0');
        encode_fields(e, fields,
                      std::span<std::byte>(reinterpret_cast<std::byte*>(buf.data()), buf.size()));
        return pyb::bytes(buf);
      },
      "topic"_a, "fields"_a);
  m.def(
      "decode",
      [](const std::string& topic, pyb::buffer payload) {
        pyb::buffer_info info = payload.request();
        return decode_fields(
            entry_or_raise(topic),
            std::span<const std::byte>(static_cast<const std::byte*>(info.ptr),
                                       static_cast<std::size_t>(info.size * info.itemsize)));
      },
      "topic"_a, "payload"_a);
}
