// shmbus.DurableSubscriber (py_durable.hpp).
#include "py_durable.hpp"

#include <pybind11/stl.h>

#include <chrono>
#include <cmath>

#include "py_errors.hpp"
#include "py_journal.hpp"

namespace shmbus::py {

namespace {

using namespace pybind11::literals;

std::span<const std::byte> bytes_span(const pyb::bytes& b) {
  char* data = nullptr;
  Py_ssize_t len = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &len) != 0) throw pyb::error_already_set();
  return {reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(len)};
}

std::chrono::nanoseconds to_ns(double s, const char* what) {
  if (!(s >= 0) || s > 1e9) {
    raise_error(Errc::kInvalidArgument, std::string(what) + " must be 0..1e9 seconds");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9));
}

}  // namespace

PyDurableSubscriber::PyDurableSubscriber(const journal::DurableOptions& options) {
  Result<journal::DurableSubscriber> r = make_error(Errc::kState, "");
  {
    // Live mode waits (bounded by seam_timeout) for the journal agent to reach the seam.
    pyb::gil_scoped_release release;
    r = journal::DurableSubscriber::open(options);
  }
  sub_.emplace(unwrap(std::move(r)));
}

journal::DurableSubscriber& PyDurableSubscriber::sub() {
  if (busy_) raise_error(Errc::kState, "DurableSubscriber: poll() is running in another thread");
  if (!sub_) raise_error(Errc::kState, "DurableSubscriber is closed");
  return *sub_;
}

std::size_t PyDurableSubscriber::poll(pyb::object handler, std::size_t max_events,
                                      double timeout_s) {
  journal::DurableSubscriber& s = sub();
  if (!PyCallable_Check(handler.ptr())) {
    throw pyb::type_error("DurableSubscriber.poll: handler must be callable");
  }
  const auto timeout = to_ns(timeout_s, "timeout");
  std::optional<pyb::error_already_set> raised;
  // One event per C++ poll: a handler that raises stops the deliveries right there, and no
  // C++ frame is unwound by a Python exception.
  const journal::DurableHandler h = [&](const journal::Delivery& d) {
    pyb::gil_scoped_acquire gil;
    try {
      pyb::dict rec = journal_record_dict(d.record);
      rec["redelivered"] = d.redelivered;
      rec["live"] = d.live;
      rec["ring_position"] = d.record.meta.ring_position;
      handler(rec);
    } catch (pyb::error_already_set& e) {
      raised.emplace(std::move(e));
    }
  };
  std::size_t n = 0;
  busy_ = true;
  struct Idle {
    bool& b;
    ~Idle() { b = false; }
  } idle{busy_};
  while (n < max_events && !raised) {
    Result<std::size_t> got = make_error(Errc::kState, "");
    {
      pyb::gil_scoped_release release;
      got = s.poll(h, 1, n == 0 ? timeout : std::chrono::nanoseconds(0));
    }
    if (raised) break;
    const std::size_t k = unwrap(std::move(got));
    if (k == 0) break;
    n += k;
  }
  if (raised) throw std::move(*raised);
  return n;
}

void PyDurableSubscriber::store_checkpoint(std::uint64_t event_id, pyb::bytes state) {
  unwrap(sub().store_checkpoint(event_id, bytes_span(state)));
}

void PyDurableSubscriber::checkpoint_handed_out(pyb::bytes state) {
  unwrap(sub().checkpoint_handed_out(bytes_span(state)));
}

void PyDurableSubscriber::close() {
  if (busy_) raise_error(Errc::kBusy, "DurableSubscriber: poll() is running in another thread");
  pyb::gil_scoped_release release;  // detaching from the bus may wait briefly
  sub_.reset();
}

void register_durable(pyb::module_& m) {
  pyb::class_<PyDurableSubscriber>(
      m, "DurableSubscriber",
      "A named journal reader whose checkpoint survives crashes; see __init__.pyi.")
      .def(pyb::init([](const std::string& journal_dir, const std::string& name,
                        const std::string& state_dir, const std::string& bus,
                        const std::string& journal_agent, const pyb::object& topics,
                        const pyb::object& priorities, double seam_timeout) {
             journal::DurableOptions o;
             o.journal_dir = journal_dir;
             o.name = name;
             o.state_dir = state_dir;
             o.bus = bus;
             o.journal_agent = journal_agent;
             if (!topics.is_none()) {
               o.topics = pyb::isinstance<pyb::str>(topics)
                              ? std::vector<std::string>{topics.cast<std::string>()}
                              : topics.cast<std::vector<std::string>>();
             }
             if (!priorities.is_none()) {
               o.priorities.fill(false);
               for (pyb::handle p : priorities) {
                 o.priorities[static_cast<std::size_t>(p.cast<Priority>())] = true;
               }
             }
             o.seam_timeout = to_ns(seam_timeout, "seam_timeout");
             return std::make_unique<PyDurableSubscriber>(o);
           }),
           "journal_dir"_a, "name"_a, pyb::kw_only(), "state_dir"_a = "", "bus"_a = "",
           "journal_agent"_a = "journal", "topics"_a = pyb::none(), "priorities"_a = pyb::none(),
           "seam_timeout"_a = 10.0)
      .def("poll", &PyDurableSubscriber::poll, "handler"_a, "max_events"_a = 1024,
           "timeout"_a = 0.0)
      .def("store_checkpoint", &PyDurableSubscriber::store_checkpoint, "event_id"_a,
           "state"_a = pyb::bytes())
      .def("checkpoint_handed_out", &PyDurableSubscriber::checkpoint_handed_out,
           "state"_a = pyb::bytes())
      .def_property_readonly("checkpoint",
                             [](PyDurableSubscriber& s) { return s.sub().checkpoint(); })
      .def_property_readonly("state",
                             [](PyDurableSubscriber& s) {
                               const auto& st = s.sub().state();
                               return pyb::bytes(reinterpret_cast<const char*>(st.data()),
                                                 st.size());
                             })
      .def_property_readonly("redelivery_limit",
                             [](PyDurableSubscriber& s) { return s.sub().redelivery_limit(); })
      .def_property_readonly("replayed", [](PyDurableSubscriber& s) { return s.sub().replayed(); })
      .def_property_readonly("delivered_live",
                             [](PyDurableSubscriber& s) { return s.sub().delivered_live(); })
      .def_property_readonly("gaps", [](PyDurableSubscriber& s) { return s.sub().gaps(); })
      .def_property_readonly("seam",
                             [](PyDurableSubscriber& s) {
                               const auto seam = s.sub().seam();
                               return std::vector<std::uint64_t>(seam.begin(), seam.end());
                             })
      .def_property_readonly("closed", &PyDurableSubscriber::closed)
      .def("close", &PyDurableSubscriber::close)
      .def("__enter__", [](pyb::object self) { return self; })
      .def("__exit__", [](PyDurableSubscriber& s, pyb::args) { s.close(); });
}

}  // namespace shmbus::py
