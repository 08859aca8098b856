// A journal Recorder opened from options and run on its own thread until stop() or
// destruction: the shape tests of the recorder and of event ids share.
#pragma once

#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "shmbus/journal_recorder.hpp"

namespace shmbus::testing {

struct RecorderThread {
  std::optional<journal::Recorder> rec;  ///< empty when open failed (reported as a failure)
  std::thread runner;

  explicit RecorderThread(const journal::RecorderOptions& options) {
    auto r = journal::Recorder::open(options);
    EXPECT_TRUE(r) << r.message();
    if (!r) return;
    rec.emplace(std::move(*r));
    runner = std::thread([this] { (void)rec->run(); });
  }
  RecorderThread(const RecorderThread&) = delete;
  RecorderThread& operator=(const RecorderThread&) = delete;
  ~RecorderThread() { stop(); }
  void stop() {
    if (rec) rec->stop();
    if (runner.joinable()) runner.join();
  }
};

}  // namespace shmbus::testing
