// The journal's on-disk format: the header that opens every segment file and the header of each
// record, pinned with static_asserts like the segment layout (a journal is read by builds made
// months later). Used by the writer, the reader and the recovery scan (journal/*.cpp).
//
//   segment file (JournalOptions::file_bytes, preallocated, memory-mapped):
//   +---------------------------+ 0
//   | FileHeader (128 B)        |  magic "SHMBJRNL", format version, file index, first event id
//   +---------------------------+ 128
//   | RecordHeader (72 B)       |  magic, length, CRC32C, event id, topic, priority, producer,
//   | topic name (topic_len B)  |  publish and journal timestamps, position in its ring
//   | payload (payload_len B)   |
//   | zero padding to 8 B       |
//   +---------------------------+ ... next record, 8-aligned
//   | zeros                     |  end of data (a record never starts with magic 0)
//   +---------------------------+ file_bytes
//
//   sparse index sidecar <file>.idx (written when the file is sealed): IndexFileHeader, then
//   IndexEntry[count] every index_interval records, CRC32C over the entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "journal/crc32c.hpp"

namespace shmbus::journal::detail {

/// Bump the major when a field moves or changes meaning (readers refuse another major); the minor
/// when a reserved field gains a meaning older readers may ignore.
/// 2: RecordHeader grew ring_position (72 bytes), which durable subscribers join the live ring by.
inline constexpr std::uint16_t kFormatMajor = 2;
inline constexpr std::uint16_t kFormatMinor = 0;
inline constexpr char kFileMagic[8] = {'S', 'H', 'M', 'B', 'J', 'R', 'N', 'L'};
inline constexpr std::uint32_t kRecordMagic = 0x524A4853u;  // "SHJR" little-endian
inline constexpr std::uint32_t kIndexMagic = 0x58494A53u;   // "SJIX"
inline constexpr std::size_t kRecordAlign = 8;

struct FileHeader {
  char magic[8];
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::uint32_t header_bytes;
  std::uint64_t file_bytes;
  std::uint64_t file_index;
  std::uint64_t first_event_id;  ///< id the first record of this file gets
  std::uint64_t created_ns;      ///< CLOCK_REALTIME, same clock as RecordHeader::journal_ns
  std::uint32_t header_crc;      ///< CRC32C of the bytes before this field
  std::uint32_t reserved0;
  std::uint8_t reserved[72];
};
static_assert(std::is_standard_layout_v<FileHeader>);
static_assert(sizeof(FileHeader) == 128 && alignof(FileHeader) == 8);
static_assert(offsetof(FileHeader, version_major) == 8);
static_assert(offsetof(FileHeader, file_bytes) == 16);
static_assert(offsetof(FileHeader, first_event_id) == 32);
static_assert(offsetof(FileHeader, header_crc) == 48);

struct RecordHeader {
  std::uint32_t magic;  ///< kRecordMagic, stored last (release) so a live reader sees whole records
  std::uint32_t length;  ///< whole record in bytes, header and padding included
  std::uint32_t crc;     ///< CRC32C of bytes [4, 8) and [12, length)
  std::uint16_t topic_len;
  std::uint8_t priority;
  std::uint8_t reserved0;
  std::uint64_t event_id;
  std::uint32_t payload_len;
  std::uint16_t flags;
  std::uint16_t schema_version;
  std::uint32_t producer;
  std::uint32_t producer_epoch;
  std::uint64_t producer_seq;
  std::uint64_t publish_ns;  ///< the event's own timestamp (CLOCK_MONOTONIC of the publisher)
  std::uint64_t journal_ns;  ///< CLOCK_REALTIME when journaled, never decreasing within a journal
  std::uint64_t ring_position;  ///< the event's position in its priority's ring (EventView)
};
static_assert(std::is_standard_layout_v<RecordHeader>);
static_assert(sizeof(RecordHeader) == 72 && alignof(RecordHeader) == 8);
static_assert(offsetof(RecordHeader, crc) == 8);
static_assert(offsetof(RecordHeader, event_id) == 16);
static_assert(offsetof(RecordHeader, payload_len) == 24);
static_assert(offsetof(RecordHeader, producer) == 32);
static_assert(offsetof(RecordHeader, publish_ns) == 48);
static_assert(offsetof(RecordHeader, journal_ns) == 56);
static_assert(offsetof(RecordHeader, ring_position) == 64);

struct IndexFileHeader {
  std::uint32_t magic;  ///< kIndexMagic
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::uint64_t count;
  std::uint32_t entries_crc;
  std::uint32_t reserved0;
  std::uint64_t reserved1;
};
static_assert(sizeof(IndexFileHeader) == 32);

struct IndexEntry {
  std::uint64_t event_id;
  std::uint64_t journal_ns;
  std::uint64_t offset;  ///< of the record in its file
};
static_assert(sizeof(IndexEntry) == 24 && alignof(IndexEntry) == 8);

/// The CRC a record at `rec` of `length` bytes must carry: bytes [4, 8) and [12, length), i.e.
/// all but the magic (stored last) and the CRC itself.
inline std::uint32_t record_crc(const std::byte* rec, std::uint32_t length) noexcept {
  return crc32c_extend(crc32c_extend(0, rec + 4, 4), rec + 12, length - 12);
}

constexpr std::uint64_t align_record(std::uint64_t n) noexcept {
  return (n + kRecordAlign - 1) & ~std::uint64_t{kRecordAlign - 1};
}

inline std::uint32_t file_header_crc(const FileHeader& h) noexcept {
  return crc32c(&h, offsetof(FileHeader, header_crc));
}

}  // namespace shmbus::journal::detail
