// Validation of journal bytes: file headers, records, whole-file scans, index sidecars.
#include "journal/scan.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "journal/mapped_file.hpp"
#include "shmbus/topic.hpp"

namespace shmbus::journal::detail {

Result<FileHeader> check_file_header(const std::byte* base, std::uint64_t size,
                                     const std::string& path) {
  if (size < sizeof(FileHeader)) {
    return Error{Errc::kCorrupt, "journal file " + path + ": " + std::to_string(size) +
                                     " bytes, shorter than its header"};
  }
  FileHeader h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kFileMagic, sizeof h.magic) != 0) {
    return Error{Errc::kCorrupt, "journal file " + path + ": not a shmbus journal (bad magic)"};
  }
  if (h.version_major != kFormatMajor) {
    return Error{Errc::kVersionMismatch,
                 "journal file " + path + ": format " + std::to_string(h.version_major) + "." +
                     std::to_string(h.version_minor) + ", this build reads " +
                     std::to_string(kFormatMajor) + ".x"};
  }
  if (h.header_crc != file_header_crc(h)) {
    return Error{Errc::kCorrupt, "journal file " + path + ": header CRC mismatch"};
  }
  if (h.header_bytes != sizeof(FileHeader) || h.file_bytes < 2 * sizeof(FileHeader) ||
      h.first_event_id == 0) {
    return Error{Errc::kCorrupt, "journal file " + path + ": header fields out of range"};
  }
  return h;
}

std::uint32_t valid_record_at(const std::byte* base, std::uint64_t size, std::uint64_t off,
                              std::uint64_t expect_id) noexcept {
  if (off + sizeof(RecordHeader) > size || off % kRecordAlign != 0) return 0;
  const std::byte* rec = base + off;
  const auto magic = __atomic_load_n(reinterpret_cast<const std::uint32_t*>(rec), __ATOMIC_ACQUIRE);
  if (magic != kRecordMagic) return 0;
  RecordHeader h;
  std::memcpy(&h, rec, sizeof h);
  if (h.length < sizeof(RecordHeader) || h.length % kRecordAlign != 0 || h.length > size - off) {
    return 0;
  }
  if (h.topic_len == 0 || h.topic_len > kMaxTopicName || h.priority >= kPriorityCount) return 0;
  if (align_record(sizeof(RecordHeader) + std::uint64_t{h.topic_len} + h.payload_len) != h.length) {
    return 0;
  }
  if (h.event_id != expect_id) return 0;
  if (record_crc(rec, h.length) != h.crc) return 0;
  return h.length;
}

Record decode_record(const std::byte* rec) noexcept {
  RecordHeader h;
  std::memcpy(&h, rec, sizeof h);
  Record r;
  r.event_id = h.event_id;
  r.journal_ns = h.journal_ns;
  r.meta.topic = std::string_view(reinterpret_cast<const char*>(rec + sizeof h), h.topic_len);
  r.meta.priority = static_cast<Priority>(h.priority);
  r.meta.flags = h.flags;
  r.meta.schema_version = h.schema_version;
  r.meta.producer = h.producer;
  r.meta.producer_epoch = h.producer_epoch;
  r.meta.producer_seq = h.producer_seq;
  r.meta.publish_ns = h.publish_ns;
  r.meta.ring_position = h.ring_position;
  r.payload = std::span<const std::byte>(rec + sizeof h + h.topic_len, h.payload_len);
  return r;
}

ScanResult scan_file(const std::byte* base, std::uint64_t size, const FileHeader& header,
                     std::uint32_t index_interval, std::vector<IndexEntry>* index) {
  ScanResult s;
  std::uint64_t off = sizeof(FileHeader);
  for (;;) {
    const std::uint32_t len = valid_record_at(base, size, off, header.first_event_id + s.records);
    if (len == 0) break;
    RecordHeader h;
    std::memcpy(&h, base + off, sizeof h);
    if (index != nullptr && index_interval != 0 && s.records % index_interval == 0) {
      index->push_back(IndexEntry{h.event_id, h.journal_ns, off});
    }
    s.last_journal_ns = h.journal_ns;
    ++s.records;
    off += len;
  }
  s.end = off;
  std::uint64_t last = size;
  while (last > off && base[last - 1] == std::byte{0}) --last;
  s.damaged_bytes = last - off;
  return s;
}

std::string file_name(std::uint64_t file_index) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "journal-%016" PRIx64 ".shj", file_index);
  return buf;
}

std::uint64_t parse_file_name(const std::string& name) noexcept {
  // "journal-" + 16 hex + ".shj"
  if (name.size() != 8 + 16 + 4 || name.compare(0, 8, "journal-") != 0 ||
      name.compare(24, 4, ".shj") != 0) {
    return 0;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 8; i < 24; ++i) {
    const char c = name[i];
    std::uint64_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return 0;
    }
    v = (v << 4) | d;
  }
  return v;
}

namespace {
std::string index_path(const std::string& data_path) {
  return data_path.substr(0, data_path.size() - 4) + ".idx";
}
}  // namespace

std::vector<IndexEntry> load_index(const std::string& data_path) {
  std::vector<IndexEntry> out;
  const std::string path = index_path(data_path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  IndexFileHeader h{};
  if (::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) && h.magic == kIndexMagic &&
      h.version_major == kFormatMajor && h.count < (1u << 26)) {
    out.resize(h.count);
    const auto bytes = static_cast<ssize_t>(h.count * sizeof(IndexEntry));
    if (::pread(fd, out.data(), static_cast<std::size_t>(bytes), sizeof h) != bytes ||
        crc32c(out.data(), static_cast<std::size_t>(bytes)) != h.entries_crc) {
      out.clear();
    }
  }
  ::close(fd);
  return out;
}

Result<void> store_index(const std::string& data_path, const std::vector<IndexEntry>& index,
                         bool durable) {
  const std::string path = index_path(data_path);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return os_error(errno, "cannot write index", tmp);
  IndexFileHeader h{};
  h.magic = kIndexMagic;
  h.version_major = kFormatMajor;
  h.version_minor = kFormatMinor;
  h.count = index.size();
  h.entries_crc = crc32c(index.data(), index.size() * sizeof(IndexEntry));
  const auto bytes = static_cast<ssize_t>(index.size() * sizeof(IndexEntry));
  bool ok = ::write(fd, &h, sizeof h) == static_cast<ssize_t>(sizeof h) &&
            ::write(fd, index.data(), static_cast<std::size_t>(bytes)) == bytes;
  const int err = ok ? 0 : (errno != 0 ? errno : ENOSPC);
  if (ok && durable) ok = ::fdatasync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return os_error(err != 0 ? err : errno, "cannot write index", path);
  }
  return {};
}

}  // namespace shmbus::journal::detail
