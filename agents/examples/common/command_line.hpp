// The example agents' command lines, all parsed in one file (command_line.cpp): CLI11 is
// header-only and costs seconds of compile per file that includes it, and the demo builds
// six agents. Each parse_* fills the common and the agent's own options, or says which exit
// code main() should return (0 after --help, CLI11's code for a bad argument).
#pragma once

#include <optional>

#include "examples.hpp"

namespace shmbus::examples {

/// std::nullopt: run the agent; a value: return it from main() (help or usage was printed).
using ParseOutcome = std::optional<int>;

ParseOutcome parse_md_feed(int argc, char** argv, CommonOptions& common, MdFeedOptions& options);
ParseOutcome parse_strategy(int argc, char** argv, CommonOptions& common, StrategyOptions& options);
ParseOutcome parse_cio(int argc, char** argv, CommonOptions& common, CioOptions& options);
ParseOutcome parse_risk(int argc, char** argv, CommonOptions& common, RiskOptions& options);
ParseOutcome parse_execution(int argc, char** argv, CommonOptions& common,
                             ExecutionOptions& options);
ParseOutcome parse_logger(int argc, char** argv, CommonOptions& common);

}  // namespace shmbus::examples
