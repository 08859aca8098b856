// writer_lock_held: a journal directory's LOCK file looked up in /proc/locks by device and inode.
#include "journal/writer_lock.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace shmbus::journal::detail {

std::optional<bool> writer_lock_held(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/LOCK").c_str(), &st) != 0) return false;  // never opened by a writer
  std::FILE* f = std::fopen("/proc/locks", "re");
  if (f == nullptr) return std::nullopt;
  // Lines like "3: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" (blocked waiters are marked
  // "->" and hold nothing); device as major:minor in hex, then the inode.
  char line[256];
  bool held = false;
  while (!held && std::fgets(line, sizeof line, f) != nullptr) {
    char kind[16] = {}, mode[16] = {}, access[16] = {};
    unsigned maj = 0, min = 0;
    std::uint64_t ino = 0;
    long pid = 0;
    const char* p = std::strchr(line, ':');
    if (p == nullptr || std::strstr(line, "->") != nullptr) continue;
    if (std::sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%" SCNu64, kind, mode, access, &pid, &maj,
                    &min, &ino) != 7) {
      continue;
    }
    held = std::strcmp(kind, "FLOCK") == 0 && ino == static_cast<std::uint64_t>(st.st_ino) &&
           maj == ::major(st.st_dev) && min == ::minor(st.st_dev);
  }
  std::fclose(f);
  return held;
}

}  // namespace shmbus::journal::detail
