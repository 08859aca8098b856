// `shmbus record`, `shmbus replay` and `shmbus journal ls|show|export`: the journal's commands,
// registered on the CLI by JournalCommands so main.cpp only constructs it and runs it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace shmbus::cli {

struct RecordOptions {
  std::string bus;
  std::vector<std::string> topics{"*"};
  std::string out;
  std::string sync = "none";  ///< none, critical or <N>ms
  std::uint64_t file_mb = 64;
  std::string backpressure = "hold";  ///< hold or shed
};
/// Records until SIGINT/SIGTERM, then drains, syncs and prints a summary to stderr.
int run_record(const RecordOptions& options);

struct ReplayOptions {
  std::string dir;
  std::string bus;
  std::string speed = "1x";  ///< <N>x or max
  std::string from;          ///< journal time: ns since the epoch or YYYY-MM-DDTHH:MM:SS[.f]Z
  std::string to;
  std::string topics = "*";
};
/// Re-publishes the journal's events (original relative timing scaled by speed, or as fast as
/// possible), streaming: memory stays flat whatever the journal's size.
int run_replay(const ReplayOptions& options);

struct JournalViewOptions {
  std::string dir;
  std::string format = "jsonl";  ///< jsonl or csv (export)
  std::uint64_t from_id = 0;
  std::uint64_t count = 0;  ///< 0 = all
};
int run_journal_ls(const JournalViewOptions& options);
int run_journal_show(const JournalViewOptions& options);
int run_journal_export(const JournalViewOptions& options);

/// Adds the subcommands record, replay and journal to `app`.
class JournalCommands {
 public:
  explicit JournalCommands(CLI::App& app);
  /// True when one of them was given on the command line.
  bool parsed() const;
  /// Runs the one given; returns the exit code.
  int run() const;

 private:
  CLI::App* record_ = nullptr;
  CLI::App* replay_ = nullptr;
  CLI::App* ls_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* export_ = nullptr;
  RecordOptions record_opts_;
  ReplayOptions replay_opts_;
  JournalViewOptions view_opts_;
};

}  // namespace shmbus::cli
