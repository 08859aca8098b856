// SpareFile: the background creation and prefault of the next journal segment file.
#include "journal/spare_file.hpp"

#include <unistd.h>

#include <exception>
#include <utility>

namespace shmbus::journal::detail {

SpareFile::~SpareFile() {
  discard();
}

void SpareFile::join() noexcept {
  if (thread_.joinable()) thread_.join();
}

void SpareFile::start(std::string path, std::uint64_t size) {
  discard();
  path_ = std::move(path);
  size_ = size;
  started_ = true;
  made_.reset();
  ::unlink(path_.c_str());  // a spare left by a writer that was killed
  try {
    thread_ = std::thread([this] {
      auto f = MappedFile::create(path_, size_);
      if (f) f->prefault();
      made_.emplace(std::move(f));
    });
  } catch (const std::exception& e) {
    // No thread (EAGAIN): take() makes the file on the caller's thread instead.
    made_.emplace(Error{Errc::kSystem, std::string("journal spare file thread: ") + e.what()});
  }
}

Result<MappedFile> SpareFile::take() {
  join();
  started_ = false;
  if (!made_ || !*made_) {
    // Creating it failed on the thread (or no thread ran): once more here, so the error is
    // about the disk as it is now.
    made_.reset();
    ::unlink(path_.c_str());
    return MappedFile::create(path_, size_);
  }
  Result<MappedFile> f = std::move(*made_);
  made_.reset();
  return f;
}

void SpareFile::discard() noexcept {
  join();
  if (started_) {
    made_.reset();  // unmaps
    ::unlink(path_.c_str());
    started_ = false;
  }
}

}  // namespace shmbus::journal::detail
