// Reader: walks a journal's files in order, one mapped at a time, seeking with the sparse index.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "journal/format.hpp"
#include "journal/mapped_file.hpp"
#include "journal/scan.hpp"
#include "shmbus/journal.hpp"

namespace shmbus::journal {

using namespace detail;
namespace fs = std::filesystem;

struct Reader::Impl {
  std::string dir;
  std::vector<FileInfo> files;
  std::size_t cur = 0;  // index into files of the mapped file
  MappedFile map;
  std::uint64_t off = 0;
  std::uint64_t expect_id = 0;
  std::uint64_t released = 0;  // pages of `map` before this offset were dropped from the RSS

  // Every kReleaseBytes read, the pages behind the reader leave its resident set: replaying a
  // journal of any size (and files of any size) keeps memory flat. One madvise per 8 MiB.
  static constexpr std::uint64_t kReleaseBytes = 8u << 20;

  Result<void> list() {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return Error{Errc::kNotFound, "journal directory " + dir + " does not exist"};
    }
    std::vector<std::uint64_t> indices;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (const auto i = parse_file_name(entry.path().filename().string()); i != 0) {
        indices.push_back(i);
      }
    }
    if (ec) return os_error(ec.value(), "cannot list journal directory", dir);
    std::sort(indices.begin(), indices.end());
    const std::uint64_t known = files.empty() ? 0 : files.back().file_index;
    for (const auto i : indices) {
      if (i <= known) continue;
      const std::string path = (fs::path(dir) / file_name(i)).string();
      auto f = MappedFile::open(path, false, 0);
      if (!f) {
        if (f.code() == Errc::kNotFound) continue;  // removed by retention meanwhile
        return f.error();
      }
      auto h = check_file_header(f->data(), f->size(), path);
      if (!h) {
        // A last file whose creation is still in progress (or was cut): not yet readable.
        if (i == indices.back() && h.code() == Errc::kCorrupt) break;
        return h.error();
      }
      FileInfo info;
      info.path = path;
      info.file_index = i;
      info.file_bytes = h->file_bytes;
      info.first_event_id = h->first_event_id;
      info.created_ns = h->created_ns;
      info.has_index = fs::exists(path.substr(0, path.size() - 4) + ".idx", ec);
      files.push_back(std::move(info));
    }
    return {};
  }

  Result<void> map_file(std::size_t i) {
    if (map.valid() && cur == i) return {};
    map.close();
    auto f = MappedFile::open(files[i].path, false, 0);
    if (!f) return f.error();
    map = std::move(*f);
    cur = i;
    off = sizeof(FileHeader);
    released = 0;
    expect_id = files[i].first_event_id;
    return {};
  }

  Result<bool> next(Record& out) {
    // The record handed out last is no longer valid (the contract of Reader::next): everything
    // before `off` may go.
    if (off >= released + kReleaseBytes && map.valid()) {
      map.release(released, off);
      released = off;
    }
    for (;;) {
      if (!map.valid()) {
        if (cur >= files.size()) {
          if (auto r = list(); !r) return r.error();
          if (cur >= files.size()) return false;
        }
        if (auto r = map_file(cur); !r) return r.error();
      }
      const std::uint32_t len = valid_record_at(map.data(), map.size(), off, expect_id);
      if (len != 0) {
        out = decode_record(map.data() + off);
        off += len;
        ++expect_id;
        return true;
      }
      if (cur + 1 >= files.size()) {
        if (auto r = list(); !r) return r.error();
      }
      if (cur + 1 >= files.size()) return false;  // the live end (or a torn tail)
      // A sealed file ends where the next record would not fit: zeros. Anything else is damage.
      if (off + 4 <= map.size()) {
        std::uint32_t magic = 0;
        std::memcpy(&magic, map.data() + off, sizeof magic);
        if (magic != 0 || files[cur + 1].first_event_id != expect_id) {
          return Error{Errc::kCorrupt, "journal file " + files[cur].path +
                                           ": damaged record at offset " + std::to_string(off) +
                                           " (event id " + std::to_string(expect_id) + ")"};
        }
      }
      map.close();
      ++cur;
    }
  }

  /// Positions at the sparse index point of file `i` at or before (id, ns) (0 = no bound).
  Result<void> position(std::size_t i, std::uint64_t id, std::uint64_t ns) {
    map.close();
    if (auto r = map_file(i); !r) return r.error();
    if (files[i].has_index) {
      const auto idx = load_index(files[i].path);
      for (const auto& e : idx) {
        if ((id != 0 && e.event_id > id) || (ns != 0 && e.journal_ns >= ns)) break;
        if (e.offset < map.size()) {
          off = e.offset;
          expect_id = e.event_id;
        }
      }
    }
    return {};
  }

  template <typename Before>
  Result<void> skip_while(Before before) {
    for (;;) {
      const std::size_t save_cur = cur;
      const std::uint64_t save_off = off;
      const std::uint64_t save_id = expect_id;
      Record r;
      auto got = next(r);
      if (!got) return got.error();
      if (!*got) return {};
      if (!before(r)) {
        if (cur != save_cur) {
          map.close();
          if (auto m = map_file(save_cur); !m) return m.error();
        }
        off = save_off;
        expect_id = save_id;
        return {};
      }
    }
  }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  if (auto r = impl->list(); !r) return r.error();
  if (impl->files.empty()) {
    return Error{Errc::kNotFound, "journal directory " + dir + " holds no journal files"};
  }
  return Reader(std::move(impl));
}

const std::vector<FileInfo>& Reader::files() const noexcept {
  return impl_->files;
}

Result<void> Reader::seek_event(std::uint64_t event_id) {
  Impl& m = *impl_;
  std::size_t i = 0;
  while (i + 1 < m.files.size() && m.files[i + 1].first_event_id <= event_id) ++i;
  if (auto r = m.position(i, event_id, 0); !r) return r;
  return m.skip_while([&](const Record& r) { return r.event_id < event_id; });
}

Result<void> Reader::seek_time(std::uint64_t journal_ns) {
  Impl& m = *impl_;
  std::size_t i = 0;
  while (i + 1 < m.files.size() && m.files[i + 1].created_ns <= journal_ns) ++i;
  if (auto r = m.position(i, 0, journal_ns); !r) return r;
  return m.skip_while([&](const Record& r) { return r.journal_ns < journal_ns; });
}

Result<bool> Reader::next(Record& out) {
  return impl_->next(out);
}

}  // namespace shmbus::journal
