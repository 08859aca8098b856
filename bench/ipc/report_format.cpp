// Floor lookup and failure texts shared by the reports (numbers: number_format.cpp).
#include "report.hpp"
#include "transport_registry.hpp"

namespace shmbus::bench {

const CaseResult* find_floor_case(const std::vector<CaseResult>& cases, const CaseResult& of) {
  for (const CaseResult& c : cases) {
    if (c.transport.name == kFloorTransport && c.mode == of.mode &&
        c.message_bytes == of.requested_message_bytes && c.ok_runs() > 0) {
      return &c;
    }
  }
  return nullptr;
}

std::string failed_runs_text(const CaseResult& c) {
  std::string text;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    if (c.runs[i].ok) continue;
    if (!text.empty()) text += " | ";
    text += "run " + std::to_string(i + 1) + ": " + c.runs[i].error;
  }
  return text;
}

}  // namespace shmbus::bench
