// PyBus, PyEvent and PyBarrier (py_bus.hpp). Every call that may wait releases the GIL; Python
// handlers take it back for the call and give it up again before the dispatcher goes on.
#include "py_bus.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "py_errors.hpp"
#include "py_fields.hpp"

namespace shmbus::py {

namespace {

std::chrono::nanoseconds seconds_to_ns(double s) {
  if (!(s >= 0)) raise_error(Errc::kInvalidArgument, "timeout must be >= 0 seconds");
  if (s > 1e9) s = 1e9;  // ~31 years: "forever" without overflowing the clock arithmetic
  return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9));
}

std::string type_name(pyb::handle h) {
  return std::string(pyb::str(h.get_type().attr("__name__")));
}

void require_callable(pyb::handle fn, const char* what) {
  if (!PyCallable_Check(fn.ptr())) {
    throw pyb::type_error(std::string(what) + " must be callable, got " + type_name(fn));
  }
}

/// The sys.error message and the dead letter's reason hold 79 characters.
constexpr std::size_t kShortFailure = 79;
/// The traceback kept in bus.last_handler_error and logged: its last frames, this long at most.
constexpr int kTracebackFrames = 8;
constexpr std::size_t kTracebackChars = 4096;

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

/// A Python exception as the bus reports it.
struct Failure {
  std::string type;       ///< "ValueError" (module-qualified outside builtins)
  std::string message;    ///< str(exception), on one line
  std::string where;      ///< innermost frame: "strategy.py:42 on_quote"
  std::string traceback;  ///< the last kTracebackFrames frames, at most kTracebackChars
  /// "ValueError: bad quote @ strategy.py:42 on_quote", cut to kShortFailure: the message is
  /// shortened first, so the type and the innermost frame always show.
  std::string short_text() const {
    std::string tail = where.empty() ? std::string() : " @ " + where;
    if (tail.size() > kShortFailure / 2) tail.resize(kShortFailure / 2);
    std::string head = message.empty() ? type : type + ": " + message;
    if (head.size() + tail.size() > kShortFailure) {
      head.resize(kShortFailure - tail.size() - 3);
      head += "...";
    }
    return head + tail;
  }
};

/// Reads type, message and traceback of a caught exception (GIL held; cold: only on failure).
Failure describe(const pyb::error_already_set& e) {
  Failure f;
  pyb::handle type = e.type();
  f.type = std::string(pyb::str(type.attr("__qualname__")));
  const std::string mod = std::string(pyb::str(type.attr("__module__")));
  if (mod != "builtins") f.type = mod + "." + f.type;
  try {
    f.message = one_line(std::string(pyb::str(e.value())));
  } catch (const pyb::error_already_set&) {
    f.message = "<str() of the exception raised>";
  }
  if (!e.trace()) return f;
  try {
    pyb::module_ tb = pyb::module_::import("traceback");
    pyb::list frames = tb.attr("extract_tb")(e.trace());
    if (pyb::len(frames) != 0) {
      pyb::object last = frames[pyb::len(frames) - 1];
      const std::string file = pyb::str(last.attr("filename"));
      f.where = file.substr(file.find_last_of('/') + 1) + ":" +
                std::string(pyb::str(last.attr("lineno"))) + " " +
                std::string(pyb::str(last.attr("name")));
    }
    pyb::list lines = tb.attr("format_exception")(type, e.value(), e.trace(), -kTracebackFrames);
    for (pyb::handle l : lines) f.traceback += std::string(pyb::str(l));
    if (f.traceback.size() > kTracebackChars) {
      // Keep the end: the innermost frames and the exception line.
      f.traceback = "...\n" + f.traceback.substr(f.traceback.size() - (kTracebackChars - 4));
    }
  } catch (const pyb::error_already_set&) {
    // A broken traceback module must not break isolation: type and message still go out.
  }
  return f;
}

/// A contiguous buffer of any exporter, released on scope exit.
class BufferView {
 public:
  explicit BufferView(pyb::handle obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw pyb::type_error(
          "payload must be bytes, a contiguous buffer (bytearray, memoryview, NumPy array) or a "
          "dict of a catalogue topic's fields, got " +
          type_name(obj));
    }
  }
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  const std::byte* data() const { return static_cast<const std::byte*>(view_.buf); }
  std::size_t size() const { return static_cast<std::size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

/// A Python callable whose last reference may go on any thread (a handler unsubscribed by the
/// dispatcher after N failures is destroyed there): takes the GIL to let go of it.
struct PyCallable {
  explicit PyCallable(pyb::object f) : fn(std::move(f)) {}
  ~PyCallable() {
    pyb::gil_scoped_acquire gil;
    fn = pyb::object();
  }
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  pyb::object fn;
};

/// Calls a Python handler of system events (health, backpressure), GIL held. Its exception
/// goes to the dispatcher's HandlerIsolation as a C++ handler's would (a std::runtime_error with
/// the short text); KeyboardInterrupt and SystemExit also stop dispatching, raised from the
/// dispatching call.
template <typename... Args>
void call_reporting(PyBus& bus, const PyCallable& cb, Args&&... args) {
  try {
    cb.fn(std::forward<Args>(args)...);
  } catch (pyb::error_already_set& e) {
    const std::string failure = describe(e).short_text();
    if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit)) {
      bus.defer(std::move(e));
    }
    throw std::runtime_error(failure);
  }
}

pyb::list str_list(const std::vector<std::string>& v) {
  pyb::list l;
  for (const std::string& s : v) l.append(s);
  return l;
}

}  // namespace

// ---- PyEvent ----------------------------------------------------------------------------------

template <typename Source>
void PyEvent::take_metadata(const Source& s) {
  topic = s.topic;
  topic_name.assign(s.topic_name);
  priority = s.priority;
  flags = s.flags;
  schema_version = s.schema_version;
  id = s.id;
  timestamp_ns = s.timestamp_ns;
  position = s.position;
}

PyEvent PyEvent::borrowed(const EventView& v, RingAlias* alias) {
  PyEvent e;
  e.rebind(v, alias);
  return e;
}

void PyEvent::rebind(const EventView& v, RingAlias* alias) {
  take_metadata(v);
  view_ = v.payload;
  owned_.clear();
  views_.clear();
  ring_alias_ = alias;
  alias_.reset();
  export_ = nullptr;
  export_size_ = 0;
  exports_ = 0;
  valid_ = true;
  borrowed_ = true;
}

PyEvent PyEvent::owning(std::vector<std::byte>&& payload) {
  PyEvent e;
  e.owned_ = std::move(payload);
  e.view_ = std::span<const std::byte>(e.owned_.data(), e.owned_.size());
  return e;
}

PyEvent PyEvent::owned(OwnedEvent&& o) {
  PyEvent e = owning(std::move(o.payload));
  e.take_metadata(o);
  return e;
}

void PyEvent::check_valid() const {
  if (!valid_) {
    raise_error(Errc::kState, "event payload of " + topic_name +
                                  " was a view into the ring, valid only during its handler; call "
                                  "event.copy() inside the handler to keep it");
  }
}

pyb::object PyEvent::payload(pyb::handle self) {
  check_valid();
  // A view through the Event's own buffer export: it keeps the Event alive, and a borrowed
  // event counts it (get_buffer), so a view kept past the handler is frozen, not left on the
  // ring.
  pyb::object mv = pyb::reinterpret_steal<pyb::object>(PyMemoryView_FromObject(self.ptr()));
  if (!mv) throw pyb::error_already_set();
  if (borrowed_) views_.push_back(mv);  // released by invalidate() when the handler returns
  return mv;
}

int PyEvent::get_buffer(PyObject* self, Py_buffer* view, int buffer_flags) {
  if (!valid_) {
    PyErr_SetString(PyExc_BufferError,
                    ("event payload of " + topic_name +
                     " was a view into the ring, valid only during its handler; call "
                     "event.copy() inside the handler to keep it")
                        .c_str());
    view->obj = nullptr;
    return -1;
  }
  if (export_ == nullptr) {
    export_size_ = view_.size();
    if (!borrowed_) {
      export_ = view_.data();
    } else {
      if (ring_alias_ != nullptr && !view_.empty())
        alias_ = ring_alias_->map(view_.data(), view_.size());
      if (alias_ != nullptr) {
        export_ = alias_->translate(view_.data());
      } else {
        // Not in a segment mapping (a lagging subscriber's copied-out event): export a private
        // copy, safe to keep.
        owned_.assign(view_.begin(), view_.end());
        export_ = owned_.data();
      }
    }
    if (export_ == nullptr) export_ = reinterpret_cast<const std::byte*>("");  // empty payload
  }
  if (PyBuffer_FillInfo(view, self, const_cast<std::byte*>(export_),
                        static_cast<Py_ssize_t>(export_size_), 1, buffer_flags) != 0) {
    return -1;
  }
  ++exports_;
  return 0;
}

void PyEvent::release_buffer() noexcept {
  // A frozen alias lives until its last export goes.
  if (--exports_ == 0 && !valid_) alias_.reset();
}

pyb::bytes PyEvent::bytes() const {
  check_valid();
  return pyb::bytes(reinterpret_cast<const char*>(view_.data()), view_.size());
}

PyEvent PyEvent::copy() const {
  check_valid();
  PyEvent e = owning(std::vector<std::byte>(view_.begin(), view_.end()));
  e.take_metadata(*this);
  return e;
}

pyb::dict PyEvent::decode() const {
  check_valid();
  const catalog::CatalogEntry* entry = catalog_entry(topic_name);
  if (entry == nullptr) {
    raise_error(Errc::kNotFound, "topic " + topic_name + " has no catalogue type to decode");
  }
  return decode_fields(*entry, view_);
}

pyb::object PyEvent::as_numpy(pyb::handle self) {
  check_valid();
  const catalog::CatalogEntry* entry = catalog_entry(topic_name);
  if (entry == nullptr) {
    raise_error(Errc::kNotFound, "topic " + topic_name + " has no catalogue dtype");
  }
  if (view_.size() != entry->payload_size) {
    raise_error(Errc::kInvalidArgument, "topic " + topic_name + ": payload of " +
                                            std::to_string(view_.size()) + " bytes, dtype has " +
                                            std::to_string(entry->payload_size));
  }
  // The Event is the array's base and exporter (get_buffer counts the export).
  static pyb::handle frombuffer =
      pyb::object(pyb::module_::import("numpy").attr("frombuffer")).release();
  return frombuffer(self, numpy_dtype(*entry));
}

void PyEvent::invalidate() {
  valid_ = false;
  for (pyb::object& mv : views_) {
    // Releasing a view whose buffer something else still holds (np.frombuffer(ev.payload), a
    // slice) fails: that export stays counted and is frozen below.
    if (PyObject* r = PyObject_CallMethod(mv.ptr(), "release", nullptr)) {
      Py_DECREF(r);
    } else {
      PyErr_Clear();
    }
  }
  views_.clear();
  if (exports_ > 0 && alias_ != nullptr) {
    const RingAlias::Freeze f = ring_alias_ != nullptr
                                    ? ring_alias_->freeze(alias_, export_, export_size_)
                                    : RingAlias::Freeze::kFailed;
    // The kernel refused even zero pages: never let the view read a recycled slot.
    if (f == RingAlias::Freeze::kFailed) Py_FatalError("shmbus: cannot freeze a kept payload view");
    // Warned once per call site (Python's default filter); a filter that makes it an error
    // cannot raise from here, so it is dropped then.
    const std::string msg = "a payload view of " + topic_name +
                            " outlived its handler: it now reads " +
                            (f == RingAlias::Freeze::kCopied ? "a private copy of that event"
                                                             : "zeros (no memory for a copy)") +
                            "; call event.copy() in the handler to keep an event";
    if (PyErr_WarnEx(PyExc_RuntimeWarning, msg.c_str(), 1) != 0) PyErr_Clear();
  }
  if (exports_ == 0) alias_.reset();
  ring_alias_ = nullptr;
  view_ = {};
}

// ---- PyBus ------------------------------------------------------------------------------------

struct PyBus::Dispatching {
  explicit Dispatching(PyBus& b) : bus(b) { bus.dispatching_.fetch_add(1); }
  ~Dispatching() { bus.dispatching_.fetch_sub(1); }
  PyBus& bus;
};

// Every call into the dispatcher: counted as dispatching (close() refuses meanwhile), with the
// GIL released (Python handlers take it back per call), then what a handler deferred is raised.
template <typename F>
auto PyBus::dispatching(F&& wait) {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    {
      Dispatching d(*this);
      pyb::gil_scoped_release release;
      wait();
    }
    raise_deferred();
  } else {
    std::optional<R> r;
    {
      Dispatching d(*this);
      pyb::gil_scoped_release release;
      r.emplace(wait());
    }
    raise_deferred();
    return std::move(*r);
  }
}

PyBus::PyBus(Bus&& bus) : bus_(std::move(bus)) {}

PyBus::~PyBus() {
  if (bus_) {
    for (PyBarrier* b : barriers_) b->reset();
    pyb::gil_scoped_release release;  // handlers' destructors take the GIL back
    bus_.reset();
  }
}

Bus& PyBus::bus() {
  if (!bus_) raise_error(Errc::kState, "bus is closed");
  return *bus_;
}

void PyBus::close() {
  if (!bus_) return;
  if (dispatching_.load() != 0) {
    bus_->stop();
    raise_error(Errc::kBusy,
                "bus " + bus_->bus_name() +
                    ": another thread is dispatching; stop() it and let it return before close()");
  }
  for (PyBarrier* b : barriers_) b->reset();
  barriers_.clear();
  pyb::gil_scoped_release release;
  bus_.reset();
}

void PyBus::drop_barrier(PyBarrier* b) {
  barriers_.erase(std::remove(barriers_.begin(), barriers_.end(), b), barriers_.end());
}

TopicId PyBus::register_topic(const std::string& name, std::uint32_t size, std::uint16_t schema) {
  const TopicId id = unwrap(bus().register_topic(name, size, schema));
  by_name_.erase(name);
  last_topic_ = nullptr;
  last_topic_obj_ = pyb::object();
  return id;
}

const TopicEntry& PyBus::topic(pyb::handle t) {
  Bus& b = bus();
  // A loop publishing to one topic by name passes the same str object each time: no UTF-8
  // conversion, string or hash then. The cache holds a reference, so the identity is sound.
  if (t.ptr() == last_topic_obj_.ptr() && last_topic_ != nullptr) return *last_topic_;
  if (PyLong_Check(t.ptr())) {
    const unsigned long id = PyLong_AsUnsignedLong(t.ptr());
    if (PyErr_Occurred() != nullptr) {
      PyErr_Clear();
      raise_error(Errc::kInvalidArgument, "topic id " + std::string(pyb::str(t)) + " is invalid");
    }
    if (id < by_id_.size() && by_id_[id].id == id) return by_id_[id];
    const std::string_view name = b.topic_name(static_cast<TopicId>(id));
    if (name.empty()) {
      raise_error(Errc::kNotFound, "topic id " + std::to_string(id) + " is not registered");
    }
    return topic(pyb::str(name.data(), name.size()));
  }
  if (!PyUnicode_Check(t.ptr())) {
    throw pyb::type_error("topic must be a str (name) or an int (id), got " + type_name(t));
  }
  Py_ssize_t len = 0;
  const char* s = PyUnicode_AsUTF8AndSize(t.ptr(), &len);
  if (s == nullptr) throw pyb::error_already_set();
  std::string name(s, static_cast<std::size_t>(len));
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    last_topic_obj_ = pyb::reinterpret_borrow<pyb::object>(t);
    last_topic_ = &it->second;  // a node of by_name_: stable until erased (register_topic)
    return it->second;
  }

  // A topic not yet known here: find it, or register it, with the catalogue type of its name
  // (md.quote.ESZ6 carries a Quote) or as variable-size bytes.
  TopicEntry e;
  e.name = name;
  e.entry = catalog_entry(name);
  auto found = b.find_topic(name);
  if (found) {
    e.id = *found;
  } else if (e.entry != nullptr) {
    e.id = unwrap(b.register_topic(name, e.entry->payload_size, e.entry->schema_version));
  } else {
    e.id = unwrap(b.register_topic(name, 0, 0));
  }
  // The registered size decides (a user type may reuse a catalogue-looking name).
  auto stats = read_stats(b);
  e.size = e.entry != nullptr ? e.entry->payload_size : 0;
  if (stats) {
    for (const TopicStats& ts : stats->topics) {
      if (ts.id == e.id) e.size = ts.payload_size;
    }
  }
  if (e.entry != nullptr && e.size != e.entry->payload_size) e.entry = nullptr;
  if (by_id_.size() <= e.id) by_id_.resize(e.id + 1);
  by_id_[e.id] = e;
  return by_name_.emplace(name, std::move(e)).first->second;
}

PublishStatus PyBus::publish_bytes(TopicId id, const void* data, std::size_t size,
                                   Priority priority) {
  // With the GIL: releasing and taking it back would double a publish's cost. Only a full ring
  // makes publish() wait (up to publish_timeout), and then other Python threads run meanwhile,
  // among them one that may be the subscriber draining this very ring.
  PublishStatus st = bus_->try_publish(id, data, size, priority);
  if (st == PublishStatus::kFull) {
    pyb::gil_scoped_release release;
    st = bus_->publish(id, data, size, priority);
  }
  return st;
}

PublishStatus PyBus::publish(pyb::handle topic_obj, pyb::handle payload, Priority priority) {
  const TopicEntry& t = topic(topic_obj);
  if (PyDict_Check(payload.ptr())) {
    if (t.entry == nullptr) {
      raise_error(Errc::kInvalidArgument,
                  "topic " + t.name + " has no catalogue type: publish bytes, not a dict");
    }
    std::array<std::byte, catalog::kMaxCatalogPayload> buf;
    std::span<std::byte> out(buf.data(), t.entry->payload_size);
    encode_fields(*t.entry, pyb::reinterpret_borrow<pyb::dict>(payload), out);
    const PublishStatus st = publish_bytes(t.id, out.data(), out.size(), priority);
    raise_if_misuse(st, t.name, out.size());
    return st;
  }
  auto send = [&](const void* data, std::size_t size) {
    if (t.size != 0 && size != t.size) {
      raise_error(Errc::kInvalidArgument, "topic " + t.name + ": payload of " +
                                              std::to_string(size) + " bytes, the topic's " +
                                              "type has " + std::to_string(t.size));
    }
    const PublishStatus st = publish_bytes(t.id, data, size, priority);
    raise_if_misuse(st, t.name, size);
    return st;
  };
  if (PyBytes_CheckExact(payload.ptr())) {  // the common case, without the buffer protocol
    return send(PyBytes_AS_STRING(payload.ptr()),
                static_cast<std::size_t>(PyBytes_GET_SIZE(payload.ptr())));
  }
  BufferView view(payload);
  return send(view.data(), view.size());
}

std::size_t PyBus::publish_batch(pyb::handle topic_obj, pyb::handle items, Priority priority,
                                 std::size_t item_size) {
  const TopicEntry& t = topic(topic_obj);
  if (item_size == 0) item_size = t.size;
  if (item_size == 0) {
    raise_error(Errc::kInvalidArgument,
                "topic " + t.name + " is variable-size: pass item_size to publish_batch");
  }
  if (t.size != 0 && item_size != t.size) {
    raise_error(Errc::kInvalidArgument, "topic " + t.name + ": items of " +
                                            std::to_string(item_size) + " bytes, the topic's " +
                                            "type has " + std::to_string(t.size));
  }
  BufferView view(items);
  if (view.size() % item_size != 0) {
    raise_error(Errc::kInvalidArgument, "topic " + t.name + ": a buffer of " +
                                            std::to_string(view.size()) +
                                            " bytes is not a whole number of " +
                                            std::to_string(item_size) + "-byte payloads");
  }
  const std::size_t n = view.size() / item_size;
  Bus& b = *bus_;
  // With the GIL while the ring has room (a batch takes well under Python's 5 ms switch
  // interval); without it once the ring is full and publishing waits. Bus::try_publish_batch
  // stops at a full ring uncounted; publish_batch then goes on from there, waiting.
  PublishBatchResult r = b.try_publish_batch(t.id, view.data(), item_size, n, priority);
  std::size_t done = r.published;
  PublishStatus st = r.status;
  if (st == PublishStatus::kFull) {
    pyb::gil_scoped_release release;  // the buffer stays exported (held) meanwhile
    r = b.publish_batch(t.id, view.data() + done * item_size, item_size, n - done, priority);
    done += r.published;
    st = r.status;
  }
  raise_if_misuse(st, t.name, item_size);
  return done;
}

void PyBus::defer(pyb::error_already_set&& e) {
  if (!deferred_) deferred_.emplace(std::move(e));
  if (bus_) bus_->stop();
}

void PyBus::raise_deferred() {
  if (!deferred_) return;
  pyb::error_already_set e = std::move(*deferred_);
  deferred_.reset();
  throw e;
}

void PyBus::handler_failed(const std::string& handler, const EventView& v,
                           pyb::error_already_set& e, std::string& short_text) {
  const Failure f = describe(e);
  short_text = f.short_text();
  pyb::dict d;
  d["handler"] = handler;
  d["topic"] = std::string(v.topic_name);
  d["sequence"] = v.id.sequence;
  d["type"] = f.type;
  d["message"] = f.message;
  d["where"] = f.where;
  d["traceback"] = f.traceback;
  d["reported"] = short_text;
  last_failure_ = d;
  // The whole (bounded) traceback goes to the "shmbus" logger; sys.error has room for a line.
  try {
    pyb::module_::import("logging").attr("getLogger")("shmbus").attr("error")(
        "handler %s raised on %s (sequence %s):\n%s", handler.empty() ? "<unnamed>" : handler,
        d["topic"], v.id.sequence, f.traceback.empty() ? short_text : f.traceback);
  } catch (const pyb::error_already_set&) {
  }
}

pyb::object PyBus::event_for(const EventView& v, PyEvent*& event) {
  // Nothing but this cache holds the last handler's Event (a kept event, a view or an array
  // over its payload would hold a reference): rebind it instead of allocating another.
  if (spare_event_ && Py_REFCNT(spare_event_.ptr()) == 1) {
    spare_->rebind(v, &alias_);
  } else {
    spare_event_ = pyb::cast(PyEvent::borrowed(v, &alias_));
    spare_ = &spare_event_.cast<PyEvent&>();
  }
  event = spare_;
  return spare_event_;
}

Handler PyBus::make_handler(pyb::object fn, const std::string& name) {
  require_callable(fn, "handler");
  auto cb = std::make_shared<PyCallable>(std::move(fn));
  return [cb, name, self = this](const EventView& v) {
    std::string failure;
    {
      pyb::gil_scoped_acquire gil;
      PyEvent* pe = nullptr;
      pyb::object ev = self->event_for(v, pe);
      try {
        // The vectorcall protocol directly: no argument tuple per event.
        PyObject* r = PyObject_CallOneArg(cb->fn.ptr(), ev.ptr());
        if (r == nullptr) throw pyb::error_already_set();
        Py_DECREF(r);
      } catch (pyb::error_already_set& e) {
        self->handler_failed(name, v, e, failure);
        if (failure.empty()) failure = "exception";
        if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit)) {
          self->defer(std::move(e));
        }
      }
      pe->invalidate();
    }
    // Out of the GIL scope: the dispatcher's HandlerIsolation counts it, reports sys.error and
    // keeps a dead letter, as for a C++ handler that throws.
    if (!failure.empty()) throw std::runtime_error(failure);
  };
}

SubscriptionId PyBus::on(const std::string& pattern, pyb::object handler, const std::string& name,
                         bool once) {
  Bus& b = bus();
  Handler h = make_handler(std::move(handler), name);
  HandlerOptions opts;
  opts.name = name;
  return once ? unwrap(b.once(pattern, std::move(h), opts))
              : unwrap(b.on(pattern, std::move(h), opts));
}

SubscriptionId PyBus::on_any(pyb::object handler, const std::string& name) {
  Bus& b = bus();
  Handler h = make_handler(std::move(handler), name);
  HandlerOptions opts;
  opts.name = name;
  return unwrap(b.on_any(std::move(h), opts));
}

void PyBus::off(SubscriptionId id) {
  Bus& b = bus();
  unwrap(b.off(id));
}

SubscriptionId PyBus::on_health(pyb::object handler) {
  Bus& b = bus();
  require_callable(handler, "health handler");
  auto cb = std::make_shared<PyCallable>(std::move(handler));
  return unwrap(b.on_health([cb, self = this](const sys::AgentHealthChange& c) {
    pyb::gil_scoped_acquire gil;
    pyb::dict d;
    d["agent"] = std::string(catalog::symbol_view(c.agent));
    d["agent_index"] = c.agent_index;
    d["bus_wide"] = c.agent_index == sys::kBusWide;
    d["old_state"] = std::string(sys::health_name(c.old_state));
    d["new_state"] = std::string(sys::health_name(c.new_state));
    d["text"] = std::string(catalog::symbol_view(c.text));
    d["heartbeat_age_ns"] = c.heartbeat_age_ns;
    call_reporting(*self, *cb, d);
  }));
}

SubscriptionId PyBus::on_backpressure(pyb::object handler) {
  Bus& b = bus();
  require_callable(handler, "backpressure handler");
  auto cb = std::make_shared<PyCallable>(std::move(handler));
  return unwrap(b.on_backpressure([cb, self = this](Priority ring, sys::BackpressureLevel level) {
    pyb::gil_scoped_acquire gil;
    call_reporting(*self, *cb, ring, std::string(sys::backpressure_level_name(level)));
  }));
}

void PyBus::on_gap(pyb::object handler) {
  Bus& b = bus();
  require_callable(handler, "gap handler");
  auto cb = std::make_shared<PyCallable>(std::move(handler));
  b.on_gap([cb](Priority ring, std::uint64_t missed) {
    pyb::gil_scoped_acquire gil;
    try {
      cb->fn(ring, missed);
    } catch (pyb::error_already_set& e) {
      PyErr_WriteUnraisable(cb->fn.ptr());
    }
  });
}

PyEvent PyBus::wait_for(const std::string& pattern, std::optional<double> timeout_s,
                        pyb::object predicate) {
  Bus& b = bus();
  const auto timeout = seconds_to_ns(timeout_s.value_or(1e9));
  std::function<bool(const EventView&)> pred;
  std::shared_ptr<PyCallable> cb;
  if (!predicate.is_none()) {
    require_callable(predicate, "predicate");
    cb = std::make_shared<PyCallable>(std::move(predicate));
    pred = [cb, self = this](const EventView& v) {
      pyb::gil_scoped_acquire gil;
      pyb::object ev = pyb::cast(PyEvent::borrowed(v, &self->alias_));
      bool r = false;
      try {
        r = pyb::bool_(cb->fn(ev));
      } catch (pyb::error_already_set& e) {
        // A predicate that raises ends the wait; its exception is raised by wait_for.
        self->defer(std::move(e));
        r = true;
      }
      ev.cast<PyEvent&>().invalidate();
      return r;
    };
  }
  Result<OwnedEvent> r = dispatching([&] { return b.wait_for(pattern, timeout, std::move(pred)); });
  return PyEvent::owned(unwrap(std::move(r)));
}

std::size_t PyBus::poll(std::size_t max_events) {
  Bus& b = bus();
  return dispatching([&] { return b.poll(max_events); });
}

std::size_t PyBus::poll_wait(std::size_t max_events, double timeout_s) {
  Bus& b = bus();
  const auto timeout = seconds_to_ns(timeout_s);
  return dispatching([&] { return b.poll_wait(max_events, timeout); });
}

void PyBus::run_for(double seconds) {
  run_slices(seconds);
}

void PyBus::run() {
  run_slices(std::nullopt);
}

void PyBus::run_slices(std::optional<double> seconds) {
  Bus& b = bus();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (seconds) deadline = std::chrono::steady_clock::now() + seconds_to_ns(*seconds);
  // Slices of at most 100 ms, so Ctrl-C (a Python signal handler) is seen between them.
  constexpr std::chrono::nanoseconds kSlice = std::chrono::milliseconds(100);
  while (true) {
    std::chrono::nanoseconds slice = kSlice;
    if (deadline) {
      const auto left = *deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) break;
      slice = std::min<std::chrono::nanoseconds>(left, kSlice);
    }
    dispatching([&] { b.run_for(slice); });
    if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
    if (stop_requested_.exchange(false)) break;
  }
}

void PyBus::run_until_woken() {
  Bus& b = bus();
  dispatching([&] { b.run(); });
}

void PyBus::stop() noexcept {
  stop_requested_.store(true);
  if (bus_) bus_->stop();
}

std::vector<PyEvent> PyBus::history(const std::string& pattern, std::size_t limit) {
  auto events = unwrap(bus().history(pattern, limit));
  std::vector<PyEvent> out;
  out.reserve(events.size());
  for (OwnedEvent& e : events) out.push_back(PyEvent::owned(std::move(e)));
  return out;
}

pyb::dict PyBus::stats() {
  return stats_dict(unwrap(read_stats(bus())));
}

pyb::dict PyBus::status() {
  return snapshot_dict(unwrap(inspect_bus(bus().bus_name())));
}

pyb::list PyBus::dead_letters() {
  pyb::list l;
  for (const DeadLetter& d : unwrap(list_dead_letters(bus()))) l.append(dead_letter_dict(d));
  return l;
}

std::string PyBus::bus_name() const {
  return bus_ ? bus_->bus_name() : std::string();
}
std::string PyBus::agent_name() const {
  return bus_ ? bus_->agent_name() : std::string();
}
std::uint32_t PyBus::agent_index() const {
  return bus_ ? bus_->agent_index() : 0;
}
std::uint64_t PyBus::events_missed() const {
  return bus_ ? bus_->events_missed() : 0;
}
void PyBus::heartbeat() {
  bus().heartbeat();
}

void PyBus::create_barrier(const std::string& name, const std::vector<std::string>& participants,
                           double timeout_s) {
  unwrap(shmbus::create_barrier(bus(), name, participants, seconds_to_ns(timeout_s)));
}

void PyBus::remove_barrier(const std::string& name) {
  unwrap(shmbus::remove_barrier(bus(), name));
}

std::vector<pyb::dict> PyBus::list_barriers() {
  std::vector<pyb::dict> out;
  for (const BarrierStatus& s : unwrap(shmbus::list_barriers(bus()))) {
    out.push_back(barrier_status_dict(s));
  }
  return out;
}

// ---- PyBarrier --------------------------------------------------------------------------------

PyBarrier::PyBarrier(pyb::object bus_obj, PyBus& bus, Barrier&& b)
    : bus_obj_(std::move(bus_obj)), bus_(&bus), b_(std::move(b)) {
  bus_->add_barrier(this);
}

PyBarrier::~PyBarrier() {
  bus_->drop_barrier(this);
  b_.reset();
}

Barrier& PyBarrier::b() {
  if (!b_) raise_error(Errc::kState, "barrier handle is closed (its bus was closed)");
  return *b_;
}

std::string PyBarrier::name() {
  return b().name();
}
bool PyBarrier::is_participant() {
  return b().is_participant();
}
bool PyBarrier::is_waiter() {
  return b().is_waiter();
}
std::uint64_t PyBarrier::round() {
  return b().round();
}

std::string PyBarrier::arrive(pyb::handle signal, std::optional<std::uint64_t> generation) {
  Barrier& h = b();
  BufferView view(signal);
  std::span<const std::byte> bytes(view.data(), view.size());
  const ArriveStatus st = generation ? h.arrive(bytes, *generation) : h.arrive(bytes);
  return std::string(arrive_status_name(st));
}

std::uint64_t PyBarrier::wait_open(double timeout_s) {
  Barrier& h = b();
  const auto timeout = seconds_to_ns(timeout_s);
  Result<std::uint64_t> r = make_error(Errc::kState, "");
  {
    pyb::gil_scoped_release release;
    r = h.wait_open(timeout);
  }
  return unwrap(std::move(r));
}

void PyBarrier::become_waiter() {
  unwrap(b().become_waiter());
}

pyb::dict PyBarrier::wait(double timeout_s) {
  Barrier& h = b();
  const auto timeout = seconds_to_ns(timeout_s);
  Result<BarrierRound> r = make_error(Errc::kState, "");
  {
    pyb::gil_scoped_release release;
    r = h.wait(timeout);
  }
  BarrierRound round = unwrap(std::move(r));
  pyb::dict d;
  d["barrier"] = round.barrier;
  d["generation"] = round.generation;
  d["complete"] = round.complete;
  d["participants"] = round.participants;
  pyb::list signals;
  for (const BarrierSignal& s : round.signals) {
    pyb::dict sd;
    sd["participant"] = s.participant;
    sd["index"] = s.index;
    sd["signal"] = pyb::bytes(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size());
    sd["arrive_mono_ns"] = s.arrive_mono_ns;
    signals.append(sd);
  }
  d["signals"] = signals;
  d["missing"] = str_list(round.missing);
  d["dropped"] = str_list(round.dropped);
  d["skipped"] = round.skipped;
  d["closed_here"] = round.closed_here;
  return d;
}

pyb::dict PyBarrier::status() {
  return barrier_status_dict(unwrap(b().status()));
}

// ---- dicts of status structs ------------------------------------------------------------------

pyb::dict barrier_status_dict(const BarrierStatus& s) {
  pyb::dict d;
  d["name"] = s.name;
  d["generation"] = s.generation;
  d["participants"] = s.participants;
  d["arrived"] = s.arrived;
  d["missing"] = str_list(s.missing);
  d["dropped"] = str_list(s.dropped);
  d["completed"] = s.completed;
  d["timed_out"] = s.timed_out;
  d["late"] = s.late;
  d["drops"] = s.drops;
  d["waiter"] = s.waiter;
  d["waiter_alive"] = s.waiter_alive;
  d["timeout_s"] = static_cast<double>(s.timeout.count()) / 1e9;
  return d;
}

pyb::dict stats_dict(const BusStats& s) {
  pyb::dict d;
  pyb::list agents;
  for (const AgentStats& a : s.agents) {
    pyb::dict ad;
    ad["index"] = a.index;
    ad["name"] = a.name;
    ad["pid"] = a.pid;
    ad["published"] = a.published;
    ad["delivered"] = a.delivered;
    ad["shed"] = a.shed;
    ad["dropped"] = a.dropped;
    ad["handler_failures"] = a.handler_failures;
    ad["dead_lettered"] = a.dead_lettered;
    ad["handler_slow"] = a.handler_slow;
    ad["handlers_unsubscribed"] = a.handlers_unsubscribed;
    ad["latency_p50_ns"] = a.latency.percentile_ns(0.5);
    ad["latency_p99_ns"] = a.latency.percentile_ns(0.99);
    agents.append(ad);
  }
  d["agents"] = agents;
  pyb::list topics;
  for (const TopicStats& t : s.topics) {
    pyb::dict td;
    td["id"] = t.id;
    td["name"] = t.name;
    td["payload_size"] = t.payload_size;
    td["published"] = t.totals.published;
    td["delivered"] = t.totals.delivered;
    td["failed"] = t.totals.failed;
    td["dead_lettered"] = t.totals.dead_lettered;
    td["subscribers"] = t.subscribers;
    topics.append(td);
  }
  d["topics"] = topics;
  d["dead_letters_written"] = s.dead_letters_written;
  d["dead_letters_dropped"] = s.dead_letters_dropped;
  return d;
}

pyb::dict snapshot_dict(const BusSnapshot& s) {
  pyb::dict d;
  d["bus"] = s.bus_name;
  d["health"] = std::string(sys::health_name(s.bus_health));
  d["supervisor_pid"] = s.supervisor_pid;
  d["supervisor_alive"] = s.supervisor_alive;
  d["agents_recovered"] = s.agents_recovered;
  d["agents_untethered"] = s.agents_untethered;
  d["claims_padded"] = s.claims_padded;
  pyb::list rings;
  for (const RingSnapshot& r : s.rings) {
    pyb::dict rd;
    rd["priority"] = std::string(priority_name(r.priority));
    rd["capacity"] = r.capacity;
    rd["tail"] = r.tail;
    rd["fill"] = r.fill;
    rd["level"] = std::string(sys::backpressure_level_name(r.level));
    rings.append(rd);
  }
  d["rings"] = rings;
  pyb::list agents;
  for (const AgentSnapshot& a : s.agents) {
    pyb::dict ad;
    ad["index"] = a.index;
    ad["name"] = a.name;
    ad["pid"] = a.pid;
    ad["alive"] = a.alive;
    ad["health"] = std::string(sys::health_name(a.health));
    ad["handler_errors"] = a.handler_errors;
    ad["published"] = AgentSnapshot::total(a.published);
    ad["delivered"] = AgentSnapshot::total(a.delivered);
    ad["last_error"] = a.last_error;
    agents.append(ad);
  }
  d["agents"] = agents;
  pyb::list barriers;
  for (const BarrierStatus& b : s.barriers) barriers.append(barrier_status_dict(b));
  d["barriers"] = barriers;
  return d;
}

pyb::dict dead_letter_dict(const DeadLetter& l) {
  pyb::dict d;
  d["index"] = l.index;
  d["topic"] = l.topic_name;
  d["priority"] = l.priority;
  d["producer"] = l.id.producer;
  d["sequence"] = l.id.sequence;
  d["failing_agent"] = l.failing_agent;
  d["handler"] = l.handler;
  d["reason"] = l.reason;
  d["payload"] = pyb::bytes(reinterpret_cast<const char*>(l.payload.data()), l.payload.size());
  return d;
}

}  // namespace shmbus::py
