// The journal's files (journal/, shmbus/journal.hpp): append and read back across roll-overs,
// seek by id and time, torn-tail recovery at every cut offset and every corrupted byte, bad
// directories, a full disk (a small tmpfs), another format version, retention, sync policy.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <utility>
#include <vector>

#include "journal/format.hpp"
#include "shmbus/journal.hpp"
#include "testing/test_support.hpp"

namespace fs = std::filesystem;
using namespace shmbus;
using namespace shmbus::journal;

namespace {

using shmbus::testing::TempDir;

/// A tmpfs of `size` mounted at a fresh dir (root only); unmounted at the end.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& tag, const std::string& mount_options) : dir_(tag) {
    ok_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, mount_options.c_str()) == 0;
    if (!ok_) why_ = std::string("mount tmpfs: ") + std::strerror(errno);
  }
  ~TmpfsMount() {
    if (ok_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool ok_ = false;
  std::string why_;
};

std::vector<std::byte> payload_of(std::uint64_t i, std::size_t size) {
  std::vector<std::byte> p(size);
  for (std::size_t k = 0; k < size; ++k) p[k] = static_cast<std::byte>((i * 31 + k) & 0xFF);
  return p;
}

RecordMeta meta_of(std::uint64_t i, const std::string& topic) {
  RecordMeta m;
  m.topic = topic;
  m.priority = static_cast<Priority>(i % 4);
  m.flags = static_cast<std::uint16_t>(i & 1);
  m.schema_version = 3;
  m.producer = static_cast<std::uint32_t>(i % 7);
  m.producer_epoch = 2;
  m.producer_seq = i * 10;
  m.publish_ns = 1'000'000 + i;
  return m;
}

JournalOptions small_options(const std::string& dir) {
  JournalOptions o;
  o.dir = dir;
  o.file_bytes = 64 << 10;
  o.index_interval = 8;
  return o;
}

/// Appends `n` records (payload sizes vary 0..95) and returns the end offset of each record in
/// the last file (for cut tests on a single-file journal); `content_ends` (optional) gets where
/// each record's bytes end before its zero padding.
std::vector<std::uint64_t> append_records(Writer& w, std::uint64_t first, std::uint64_t n,
                                          std::vector<std::uint64_t>* content_ends = nullptr) {
  std::vector<std::uint64_t> ends;
  std::uint64_t off = sizeof(detail::FileHeader);
  const std::string topic = "md.quote.ESZ6";
  for (std::uint64_t i = first; i < first + n; ++i) {
    const auto p = payload_of(i, i % 96);
    std::uint64_t id = 0;
    EXPECT_EQ(w.append(meta_of(i, topic), p, &id), AppendStatus::kOk);
    EXPECT_EQ(id, i);
    if (content_ends != nullptr) {
      content_ends->push_back(off + sizeof(detail::RecordHeader) + topic.size() + p.size());
    }
    off += detail::align_record(sizeof(detail::RecordHeader) + topic.size() + p.size());
    ends.push_back(off);
  }
  return ends;
}

/// Reads the whole journal; checks each record's fields against what append_records wrote.
std::uint64_t read_all_checked(const std::string& dir, std::uint64_t first = 1) {
  auto r = Reader::open(dir);
  EXPECT_TRUE(r) << r.message();
  if (!r) return 0;
  std::uint64_t n = 0;
  Record rec;
  for (;;) {
    auto got = r->next(rec);
    EXPECT_TRUE(got) << got.message();
    if (!got || !*got) break;
    const std::uint64_t i = first + n;
    EXPECT_EQ(rec.event_id, i);
    EXPECT_EQ(rec.meta.topic, "md.quote.ESZ6");
    EXPECT_EQ(rec.meta.priority, static_cast<Priority>(i % 4));
    EXPECT_EQ(rec.meta.producer_seq, i * 10);
    EXPECT_EQ(rec.meta.publish_ns, 1'000'000 + i);
    const auto p = payload_of(i, i % 96);
    EXPECT_TRUE(std::equal(p.begin(), p.end(), rec.payload.begin(), rec.payload.end()));
    ++n;
  }
  return n;
}

std::string only_file(const std::string& dir) {
  std::string found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".shj") found = e.path().string();
  }
  return found;
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::vector<char>& bytes, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(size));
}

}  // namespace

TEST(JournalTest, ReadsBackEveryRecordAcrossRollOvers) {
  TempDir d("roll");
  auto w = Writer::open(small_options(d.sub("j")));
  ASSERT_TRUE(w) << w.message();
  append_records(*w, 1, 3000);  // ~400 KB: several 64 KiB files
  EXPECT_GE(w->stats().files_created, 5u);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_all_checked(d.sub("j")), 3000u);
}

// The next file is made ahead on a background thread under a name readers ignore; a roll-over
// renames it into place, closing removes the unused one, and one left by a killed writer is
// neither read nor kept.
TEST(JournalTest, NextFileIsPreparedAheadAndNeverLeftBehind) {
  TempDir d("spare");
  const std::string spare = d.sub("j") + "/journal-next.spare";
  auto o = small_options(d.sub("j"));
  {
    auto w = Writer::open(o);
    ASSERT_TRUE(w) << w.message();
    // Made by the background thread after open, and again after each roll-over.
    EXPECT_TRUE(
        shmbus::testing::eventually([&] { return fs::exists(spare); }, std::chrono::seconds(10)));
    append_records(*w, 1, 3000);
    EXPECT_GE(w->stats().files_created, 5u);
    EXPECT_TRUE(
        shmbus::testing::eventually([&] { return fs::exists(spare); }, std::chrono::seconds(10)));
    ASSERT_TRUE(w->close());
    EXPECT_FALSE(fs::exists(spare));
  }
  EXPECT_EQ(read_all_checked(d.sub("j")), 3000u);
  // A writer killed after making its spare leaves one behind, possibly not zeroed yet.
  spit(spare, std::vector<char>(o.file_bytes, 'x'), o.file_bytes);
  EXPECT_EQ(read_all_checked(d.sub("j")), 3000u);
  o.prepare_next_file = false;
  auto w = Writer::open(o);
  ASSERT_TRUE(w) << w.message();
  EXPECT_FALSE(fs::exists(spare));
  append_records(*w, 3001, 1000);  // rolls over with files made on the spot
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_all_checked(d.sub("j")), 4000u);
}

TEST(JournalTest, ReopenedWriterContinuesEventIds) {
  TempDir d("reopen");
  {
    auto w = Writer::open(small_options(d.path()));
    ASSERT_TRUE(w) << w.message();
    append_records(*w, 1, 700);
  }
  auto w = Writer::open(small_options(d.path()));
  ASSERT_TRUE(w) << w.message();
  EXPECT_FALSE(w->recovery().damaged()) << w->recovery().describe();
  append_records(*w, 701, 300);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_all_checked(d.path()), 1000u);
}

// Journal times come from the fast clock plus the wall clock's offset: each record's time lies
// between CLOCK_REALTIME read just before and just after its append (1 ms of slack for the
// fast clock's re-anchoring), and times never go backwards.
std::uint64_t wall_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

TEST(JournalTest, JournalTimesAreWallClockTimesInOrder) {
  TempDir d("jtime");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
  {
    auto w = Writer::open(small_options(d.path()));
    ASSERT_TRUE(w) << w.message();
    for (std::uint64_t i = 1; i <= 2000; ++i) {
      const std::uint64_t before = wall_ns();
      append_records(*w, i, 1);
      windows.emplace_back(before, wall_ns());
      if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(120));  // refresh
    }
    ASSERT_TRUE(w->close());
  }
  auto r = Reader::open(d.path());
  ASSERT_TRUE(r) << r.message();
  Record rec;
  std::uint64_t last = 0;
  for (const auto& [before, after] : windows) {
    ASSERT_TRUE(r->next(rec).value());
    constexpr std::uint64_t kSlackNs = 1'000'000;
    EXPECT_GE(rec.journal_ns + kSlackNs, before) << rec.event_id;
    EXPECT_LE(rec.journal_ns, after + kSlackNs) << rec.event_id;
    EXPECT_GE(rec.journal_ns, last) << rec.event_id;
    last = rec.journal_ns;
  }
}

TEST(JournalTest, SeeksByEventIdAndByTime) {
  TempDir d("seek");
  std::vector<std::uint64_t> ns;
  {
    auto w = Writer::open(small_options(d.path()));
    ASSERT_TRUE(w) << w.message();
    append_records(*w, 1, 2000);
  }
  auto r = Reader::open(d.path());
  ASSERT_TRUE(r) << r.message();
  Record rec;
  for (std::uint64_t id : {1u, 2u, 9u, 777u, 1500u, 2000u}) {
    ASSERT_TRUE(r->seek_event(id));
    auto got = r->next(rec);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(rec.event_id, id);
    const std::uint64_t t = rec.journal_ns;
    ASSERT_TRUE(r->seek_time(t));
    ASSERT_TRUE(r->next(rec).value());
    EXPECT_LE(rec.event_id, id);  // journal times may repeat (same ns)
    EXPECT_EQ(rec.journal_ns, t);
  }
  ASSERT_TRUE(r->seek_event(2001));
  EXPECT_FALSE(r->next(rec).value());
}

TEST(JournalTest, CutAtEveryOffsetOfTheLastRecordsKeepsEveryCompleteRecord) {
  TempDir d("cut");
  const std::string src = d.sub("src");
  std::vector<std::uint64_t> ends, content_ends;
  {
    auto w = Writer::open(small_options(src));
    ASSERT_TRUE(w) << w.message();
    ends = append_records(*w, 1, 40, &content_ends);
  }
  const auto bytes = slurp(only_file(src));
  const std::uint64_t from = ends[ends.size() - 4];  // the last 3 records, every byte
  for (std::uint64_t cut = from; cut <= ends.back(); ++cut) {
    const std::string dir = d.sub("cut" + std::to_string(cut));
    fs::create_directory(dir);
    spit(dir + "/" + fs::path(only_file(src)).filename().string(), bytes, cut);
    // A cut inside a record's zero padding loses nothing: the file is refilled with zeros.
    const auto complete = static_cast<std::uint64_t>(
        std::upper_bound(content_ends.begin(), content_ends.end(), cut) - content_ends.begin());
    {
      auto w = Writer::open(small_options(dir));
      ASSERT_TRUE(w) << w.message();
      EXPECT_EQ(w->recovery().records_kept, complete) << "cut at " << cut;
      EXPECT_TRUE(w->recovery().damaged()) << "cut at " << cut;
      EXPECT_TRUE(w->recovery().file_was_short);
      EXPECT_EQ(w->recovery().valid_bytes, complete == 0 ? 128 : ends[complete - 1]);
      // Appending after recovery continues the ids with no hole.
      append_records(*w, complete + 1, 2);
    }
    EXPECT_EQ(read_all_checked(dir), complete + 2) << "cut at " << cut;
    fs::remove_all(dir);
  }
}

TEST(JournalTest, CorruptByteInTheLastRecordsIsFoundByCrcAndTruncated) {
  TempDir d("corrupt");
  const std::string src = d.sub("src");
  std::vector<std::uint64_t> ends;
  {
    auto w = Writer::open(small_options(src));
    ASSERT_TRUE(w) << w.message();
    ends = append_records(*w, 1, 30);
  }
  const auto bytes = slurp(only_file(src));
  const std::string name = fs::path(only_file(src)).filename().string();
  const std::uint64_t from = ends[ends.size() - 4];
  for (std::uint64_t at = from; at < ends.back(); ++at) {
    const std::string dir = d.sub("c" + std::to_string(at));
    fs::create_directory(dir);
    auto copy = bytes;
    copy[at] = static_cast<char>(copy[at] ^ 0x5A);
    spit(dir + "/" + name, copy, copy.size());
    const auto before =
        static_cast<std::uint64_t>(std::upper_bound(ends.begin(), ends.end(), at) - ends.begin());
    {
      auto w = Writer::open(small_options(dir));
      ASSERT_TRUE(w) << w.message();
      EXPECT_EQ(w->recovery().records_kept, before) << "byte " << at;
      EXPECT_GT(w->recovery().damaged_bytes, 0u) << "byte " << at;
      EXPECT_EQ(w->recovery().valid_bytes, before == 0 ? 128 : ends[before - 1]);
    }
    EXPECT_EQ(read_all_checked(dir), before) << "byte " << at;
    fs::remove_all(dir);
  }
}

TEST(JournalTest, MissingParentDirectoryIsNotFound) {
  auto w = Writer::open(small_options("/tmp/shmbus_no_such_dir_xyz/a/b"));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.code(), Errc::kNotFound);
  EXPECT_NE(w.message().find("does not exist"), std::string::npos) << w.message();
  auto r = Reader::open("/tmp/shmbus_no_such_dir_xyz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), Errc::kNotFound);
}

TEST(JournalTest, PathThatIsAFileIsRejected) {
  TempDir d("file");
  spit(d.sub("f"), {'x'}, 1);
  auto w = Writer::open(small_options(d.sub("f")));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.code(), Errc::kInvalidArgument);
}

TEST(JournalTest, ReadOnlyDirectoryIsPermissionError) {
  TmpfsMount m("ro", "size=1m,mode=0755");
  if (!m.ok()) GTEST_SKIP() << "needs root to mount a read-only tmpfs: " << m.why();
  ASSERT_EQ(::mount("tmpfs", m.path().c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=1m"), 0)
      << std::strerror(errno);
  auto w = Writer::open(small_options(m.path()));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.code(), Errc::kPermission) << w.message();
  EXPECT_NE(w.message().find(m.path()), std::string::npos) << w.message();
}

TEST(JournalTest, UnwritableDirectoryIsPermissionErrorForNonRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory modes (see ReadOnlyDirectory...)";
  TempDir d("nowrite");
  ::chmod(d.path().c_str(), 0500);
  auto w = Writer::open(small_options(d.path()));
  ::chmod(d.path().c_str(), 0700);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.code(), Errc::kPermission) << w.message();
}

TEST(JournalTest, FullDiskIsNoSpaceAndLosesNothingWritten) {
  TmpfsMount m("full", "size=512k");
  if (!m.ok()) GTEST_SKIP() << "needs root to mount a small tmpfs: " << m.why();
  auto w = Writer::open(small_options(m.path()));
  ASSERT_TRUE(w) << w.message();
  std::uint64_t acked = 0;
  AppendStatus st = AppendStatus::kOk;
  const std::string topic = "md.quote.ESZ6";
  for (std::uint64_t i = 1; i < 100000; ++i) {
    const auto p = payload_of(i, i % 96);
    st = w->append(meta_of(i, topic), p);
    if (st != AppendStatus::kOk) break;
    acked = i;
  }
  ASSERT_EQ(st, AppendStatus::kNoSpace) << append_status_name(st) << ": " << w->last_error();
  EXPECT_NE(w->last_error().find("No space"), std::string::npos) << w->last_error();
  EXPECT_GT(acked, 1000u);
  // Still refused (not a crash, not a hole) on the next try.
  EXPECT_EQ(w->append(meta_of(acked + 1, topic), payload_of(acked + 1, (acked + 1) % 96)),
            AppendStatus::kNoSpace);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_all_checked(m.path()), acked);
}

TEST(JournalTest, JournalOfAnotherFormatVersionIsRejected) {
  TempDir d("version");
  {
    auto w = Writer::open(small_options(d.path()));
    ASSERT_TRUE(w) << w.message();
    append_records(*w, 1, 10);
  }
  const std::string file = only_file(d.path());
  auto bytes = slurp(file);
  const std::uint16_t v1 = 1;  // a journal written before format 2 (records without position)
  std::memcpy(bytes.data() + offsetof(detail::FileHeader, version_major), &v1, sizeof v1);
  spit(file, bytes, bytes.size());
  auto w = Writer::open(small_options(d.path()));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.code(), Errc::kVersionMismatch);
  EXPECT_NE(w.message().find("format 1.0, this build reads 2.x"), std::string::npos) << w.message();
  auto r = Reader::open(d.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), Errc::kVersionMismatch);
  // Nothing was changed: the file is as it was.
  EXPECT_EQ(slurp(file), bytes);
}

TEST(JournalTest, SecondWriterOnADirectoryIsBusy) {
  TempDir d("busy");
  auto a = Writer::open(small_options(d.path()));
  ASSERT_TRUE(a) << a.message();
  auto b = Writer::open(small_options(d.path()));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.code(), Errc::kBusy);
}

TEST(JournalTest, RetentionBySizeRemovesTheOldestFiles) {
  TempDir d("retain");
  auto o = small_options(d.path());
  o.retain_bytes = 4 * o.file_bytes;
  auto w = Writer::open(o);
  ASSERT_TRUE(w) << w.message();
  append_records(*w, 1, 5000);
  EXPECT_GT(w->stats().files_removed, 0u);
  std::uint64_t files = 0;
  for (const auto& e : fs::directory_iterator(d.path())) files += e.path().extension() == ".shj";
  EXPECT_LE(files, 4u);
  ASSERT_TRUE(w->close());
  auto r = Reader::open(d.path());
  ASSERT_TRUE(r) << r.message();
  const std::uint64_t first = r->files().front().first_event_id;
  EXPECT_GT(first, 1u);
  EXPECT_EQ(read_all_checked(d.path(), first), 5001 - first);
}

TEST(JournalTest, RetentionByAgeRemovesSealedFilesOlderThanTheLimit) {
  TempDir d("age");
  auto o = small_options(d.path());
  {
    auto w = Writer::open(o);
    ASSERT_TRUE(w) << w.message();
    append_records(*w, 1, 2000);
  }
  // Backdate every file's creation: rewrite headers as if written two hours ago.
  for (const auto& e : fs::directory_iterator(d.path())) {
    if (e.path().extension() != ".shj") continue;
    auto bytes = slurp(e.path().string());
    detail::FileHeader h;
    std::memcpy(&h, bytes.data(), sizeof h);
    h.created_ns -= 7200ull * 1'000'000'000ull;
    h.header_crc = detail::file_header_crc(h);
    std::memcpy(bytes.data(), &h, sizeof h);
    spit(e.path().string(), bytes, bytes.size());
  }
  o.retain_age = std::chrono::seconds(3600);
  auto w = Writer::open(o);
  ASSERT_TRUE(w) << w.message();
  append_records(*w, 2001, 600);  // rolls at least once: retention runs
  EXPECT_GT(w->stats().files_removed, 0u);
}

TEST(JournalTest, CriticalPolicySyncsOnCriticalRecordsOnly) {
  TempDir d("sync");
  auto o = small_options(d.path());
  o.sync = SyncPolicy::kCritical;
  auto w = Writer::open(o);
  ASSERT_TRUE(w) << w.message();
  const std::string topic = "order.filled";  // outlives the meta, which views it
  RecordMeta m = meta_of(0, topic);
  m.priority = Priority::kNormal;
  const auto p = payload_of(0, 64);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(w->append(m, p), AppendStatus::kOk);
  EXPECT_EQ(w->stats().syncs, 0u);
  m.priority = Priority::kCritical;
  ASSERT_EQ(w->append(m, p), AppendStatus::kOk);
  EXPECT_EQ(w->stats().syncs, 1u);
  EXPECT_GT(w->stats().sync_ns_total, 0u);
}

// kInterval syncs on the writer's own thread: records appended and then left alone (no further
// append, no tick) become durable within a few intervals, and each sync is counted; across
// roll-overs nothing is lost or synced after its file was unmapped.
TEST(JournalTest, IntervalPolicySyncsOnTheWritersThreadWithoutFurtherAppends) {
  TempDir d("interval");
  auto o = small_options(d.path());
  o.sync = SyncPolicy::kInterval;
  o.sync_interval = std::chrono::milliseconds(2);
  auto w = Writer::open(o);
  ASSERT_TRUE(w) << w.message();
  append_records(*w, 1, 3000);  // several 64 KiB files: rolls while the syncer runs
  EXPECT_GE(w->stats().files_created, 5u);
  const std::uint64_t before = w->stats().syncs;
  append_records(*w, 3001, 10);
  EXPECT_TRUE(shmbus::testing::eventually([&] { return w->stats().syncs > before; },
                                          std::chrono::seconds(10)));
  EXPECT_GT(w->stats().sync_ns_total, 0u);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_all_checked(d.path()), 3010u);
}

TEST(JournalTest, BadRecordArgumentsAreRefusedWithoutWriting) {
  TempDir d("badrec");
  auto w = Writer::open(small_options(d.path()));
  ASSERT_TRUE(w) << w.message();
  const auto p = payload_of(0, 8);
  EXPECT_EQ(w->append(meta_of(0, ""), p), AppendStatus::kBadTopic);
  EXPECT_EQ(w->append(meta_of(0, std::string(200, 'a')), p), AppendStatus::kBadTopic);
  EXPECT_EQ(w->append(meta_of(0, "x"), payload_of(0, 70 << 10)), AppendStatus::kTooLarge);
  EXPECT_EQ(w->stats().records, 0u);
  SyncPolicy sp;
  std::chrono::milliseconds iv{};
  EXPECT_FALSE(parse_sync_policy("often", sp, iv));
  EXPECT_FALSE(parse_sync_policy("0ms", sp, iv));
  ASSERT_TRUE(parse_sync_policy("25ms", sp, iv));
  EXPECT_EQ(sp, SyncPolicy::kInterval);
  EXPECT_EQ(iv.count(), 25);
}

namespace {
std::uint64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}
}  // namespace

// Bounded: reading a journal maps one file at a time, so resident memory stays within a few
// files whatever the journal's length (here 24 files of 4 MiB, ~96 MB).
TEST(JournalTest, ReadingMapsOneFileAtATimeSoMemoryStaysFlat) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer maps shadow memory for every mapped page a thread touches, and that shadow
  // counts in RSS: the bound is for the real process (checked in the release and ASan runs).
  GTEST_SKIP() << "RSS includes ThreadSanitizer's shadow of the mapped files";
#endif
  TempDir d("flat");
  JournalOptions o;
  o.dir = d.path();
  o.file_bytes = 4 << 20;
  {
    auto w = Writer::open(o);
    ASSERT_TRUE(w) << w.message();
    const std::vector<std::byte> p(200, std::byte{7});
    const std::string topic = "md.quote.ESZ6";  // outlives the meta, which views it
    RecordMeta m = meta_of(0, topic);
    while (w->stats().files_created < 25) ASSERT_EQ(w->append(m, p), AppendStatus::kOk);
  }
  const std::uint64_t base = rss_bytes();
  auto r = Reader::open(d.path());
  ASSERT_TRUE(r) << r.message();
  Record rec;
  std::uint64_t n = 0, peak = base, sum = 0;
  while (r->next(rec).value()) {
    sum += static_cast<std::uint64_t>(rec.payload[0]);
    if (++n % 4096 == 0) peak = std::max(peak, rss_bytes());
  }
  EXPECT_GT(n, 24u * (4u << 20) / 296u);  // records of 288 bytes (72 + 13 + 200, aligned)
  EXPECT_EQ(sum, n * 7);
  EXPECT_LT(peak - base, 3 * o.file_bytes) << "resident grew by " << (peak - base) << " bytes";
}

// Flat within a file too: the reader drops the pages behind it (every 8 MiB), so reading one
// 64 MiB file keeps the resident set far below the file's size, whatever size files have.
TEST(JournalTest, ReadingALargeFileDropsThePagesBehindTheReader) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "RSS includes ThreadSanitizer's shadow of the mapped files";
#endif
  TempDir d("large");
  JournalOptions o;
  o.dir = d.path();
  o.file_bytes = 64 << 20;
  o.prepare_next_file = false;
  {
    auto w = Writer::open(o);
    ASSERT_TRUE(w) << w.message();
    const std::vector<std::byte> p(200, std::byte{7});
    const std::string topic = "md.quote.ESZ6";
    RecordMeta m = meta_of(0, topic);
    while (w->stats().bytes < (60u << 20)) ASSERT_EQ(w->append(m, p), AppendStatus::kOk);
    ASSERT_EQ(w->stats().files_created, 1u);
  }
  const std::uint64_t base = rss_bytes();
  auto r = Reader::open(d.path());
  ASSERT_TRUE(r) << r.message();
  Record rec;
  std::uint64_t n = 0, peak = base;
  while (r->next(rec).value()) {
    if (++n % 4096 == 0) peak = std::max(peak, rss_bytes());
  }
  EXPECT_GT(n, (60u << 20) / 288u - 1);
  EXPECT_LT(peak - base, 24u << 20) << "resident grew by " << (peak - base) << " bytes";
}
