// The arguments of `shmbus record`, `shmbus replay` and `shmbus journal ...`.
#include <CLI/CLI.hpp>

#include "journal_commands.hpp"

namespace shmbus::cli {

JournalCommands::JournalCommands(CLI::App& app) {
  record_ = app.add_subcommand("record", "journal events until SIGINT/SIGTERM (record-PID)");
  record_->add_option("--bus", record_opts_.bus, "bus name")->required();
  record_->add_option("--topics", record_opts_.topics, "topic patterns (default *)");
  record_->add_option("--out", record_opts_.out, "journal directory")->required();
  record_->add_option("--sync", record_opts_.sync, "none (default), critical or <N>ms");
  record_->add_option("--file-mb", record_opts_.file_mb, "size of each journal file (MiB)");
  record_->add_option("--backpressure", record_opts_.backpressure, "hold (default) or shed");

  replay_ = app.add_subcommand("replay", "re-publish a journal onto a bus (replay-PID)");
  replay_->add_option("dir", replay_opts_.dir, "journal directory")->required();
  replay_->add_option("--bus", replay_opts_.bus, "bus name")->required();
  replay_->add_option("--speed", replay_opts_.speed, "1x (default), 10x, <N>x or max");
  replay_->add_option("--from", replay_opts_.from, "journal time: ns or YYYY-MM-DDTHH:MM:SSZ");
  replay_->add_option("--to", replay_opts_.to, "journal time: ns or YYYY-MM-DDTHH:MM:SSZ");
  replay_->add_option("--topics", replay_opts_.topics, "topic pattern (default *)");

  auto* journal = app.add_subcommand("journal", "look inside a journal directory");
  journal->require_subcommand(1);
  ls_ = journal->add_subcommand("ls", "files, ids, times and the recorder's counters");
  ls_->add_option("dir", view_opts_.dir, "journal directory")->required();
  show_ = journal->add_subcommand("show", "records as JSON lines, payloads decoded");
  show_->add_option("dir", view_opts_.dir, "journal directory")->required();
  show_->add_option("--from-id", view_opts_.from_id, "start at this event id");
  show_->add_option("--count", view_opts_.count, "at most N records");
  export_ = journal->add_subcommand("export", "every record as jsonl or csv");
  export_->add_option("dir", view_opts_.dir, "journal directory")->required();
  export_->add_option("--format", view_opts_.format, "jsonl (default) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  export_->add_option("--from-id", view_opts_.from_id, "start at this event id");
  export_->add_option("--count", view_opts_.count, "at most N records");
}

bool JournalCommands::parsed() const {
  return *record_ || *replay_ || *ls_ || *show_ || *export_;
}

int JournalCommands::run() const {
  if (*record_) return run_record(record_opts_);
  if (*replay_) return run_replay(replay_opts_);
  if (*ls_) return run_journal_ls(view_opts_);
  if (*show_) return run_journal_show(view_opts_);
  return run_journal_export(view_opts_);
}

}  // namespace shmbus::cli
