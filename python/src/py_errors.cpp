// shmbus.Error and shmbus.TimeoutError (py_errors.hpp).
#include "py_errors.hpp"

#include <string>

namespace shmbus::py {

namespace {

PyObject* g_error = nullptr;
PyObject* g_timeout = nullptr;

}  // namespace

void register_errors(pyb::module_& m) {
  g_error = PyErr_NewExceptionWithDoc(
      "shmbus._shmbus.Error",
      "A shmbus call failed. `code` is the C++ error code's name (\"not_found\", "
      "\"invalid_argument\", ...), `errc` its number, str(e) the C++ message.",
      PyExc_Exception, nullptr);
  pyb::tuple bases = pyb::make_tuple(pyb::handle(g_error), pyb::handle(PyExc_TimeoutError));
  g_timeout = PyErr_NewExceptionWithDoc("shmbus._shmbus.TimeoutError",
                                        "A shmbus wait ran past its deadline (code \"timeout\").",
                                        bases.ptr(), nullptr);
  m.add_object("Error", pyb::handle(g_error));
  m.add_object("TimeoutError", pyb::handle(g_timeout));
}

void raise_error(Errc code, const std::string& message) {
  PyObject* type = code == Errc::kTimeout ? g_timeout : g_error;
  pyb::str text(message.data(), message.size());
  pyb::object exc = pyb::reinterpret_steal<pyb::object>(PyObject_CallOneArg(type, text.ptr()));
  if (!exc) throw pyb::error_already_set();
  exc.attr("code") = pyb::str(errc_name(code));
  exc.attr("errc") = pyb::int_(static_cast<int>(code));
  PyErr_SetObject(type, exc.ptr());
  throw pyb::error_already_set();
}

void raise_if_misuse(PublishStatus status, std::string_view topic, std::size_t size) {
  const std::string t(topic);
  switch (status) {
    case PublishStatus::kTooLarge:
      raise_error(Errc::kTooLarge, "topic " + t + ": payload of " + std::to_string(size) +
                                       " bytes is larger than the bus's max payload");
    case PublishStatus::kUnknownTopic:
      raise_error(Errc::kNotFound, "topic " + t + " is not registered on this bus");
    case PublishStatus::kClosed:
      raise_error(Errc::kState, "bus is closed");
    case PublishStatus::kBadSize:
      raise_error(Errc::kInvalidArgument,
                  "topic " + t + ": payload of " + std::to_string(size) +
                      " bytes differs from the topic's registered payload size");
    default:
      return;
  }
}

}  // namespace shmbus::py
