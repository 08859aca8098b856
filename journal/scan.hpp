// Checking journal bytes: the file header, one record at an offset, and a whole file's records
// (recovery). Shared by the writer's recovery and the reader. Journal bytes are input: every
// length is range-checked before use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "journal/format.hpp"
#include "shmbus/journal.hpp"
#include "shmbus/result.hpp"

namespace shmbus::journal::detail {

/// Checks the header of the file `path` whose first `size` bytes are at `base`. Errors:
/// kCorrupt (short, not a journal, bad CRC), kVersionMismatch (another major, naming both).
Result<FileHeader> check_file_header(const std::byte* base, std::uint64_t size,
                                     const std::string& path);

/// Length of the valid record with id `expect_id` at `off`, or 0 when none is there (end of
/// data, torn, corrupt, or out of order). Loads the magic with acquire (a live writer stores it
/// last).
std::uint32_t valid_record_at(const std::byte* base, std::uint64_t size, std::uint64_t off,
                              std::uint64_t expect_id) noexcept;

/// The record at `rec` (already validated) as views into the file.
Record decode_record(const std::byte* rec) noexcept;

struct ScanResult {
  std::uint64_t records = 0;
  std::uint64_t end = sizeof(FileHeader);  ///< offset after the last valid record
  std::uint64_t last_journal_ns = 0;
  std::uint64_t damaged_bytes = 0;  ///< from `end` to the last non-zero byte
};

/// Walks every valid record of a file from its header on, collecting a sparse index point every
/// `index_interval` records (when `index` is not null).
ScanResult scan_file(const std::byte* base, std::uint64_t size, const FileHeader& header,
                     std::uint32_t index_interval, std::vector<IndexEntry>* index);

/// Journal file names: "journal-<16 hex digits of file index>.shj"; index sidecar ".idx".
std::string file_name(std::uint64_t file_index);
/// The index of a journal file name, or 0 when the name is not one.
std::uint64_t parse_file_name(const std::string& name) noexcept;

/// The sealed sparse index of a file from its sidecar; empty when missing or damaged (the reader
/// then scans).
std::vector<IndexEntry> load_index(const std::string& data_path);
/// Writes the sidecar (tmp + rename); `durable` also fsyncs it.
Result<void> store_index(const std::string& data_path, const std::vector<IndexEntry>& index,
                         bool durable);

}  // namespace shmbus::journal::detail
