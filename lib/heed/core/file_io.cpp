#include "heed/core/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "heed/core/error.h"

namespace heed {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

// The temporary file a save is writing, for remove_unfinished_save() in a signal handler: a
// fixed buffer and an atomic flag, because a handler may call neither malloc nor a lock.
char g_unfinished[4096];
std::atomic<bool> g_unfinished_set{false};

void track_unfinished(const std::string& temporary) {
  if (temporary.size() >= sizeof g_unfinished) return;
  std::memcpy(g_unfinished, temporary.c_str(), temporary.size() + 1);
  g_unfinished_set.store(true);
}
void untrack_unfinished() { g_unfinished_set.store(false); }

// Closes a descriptor on every path out of a scope.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The file a save replaces: a symlink is followed to the file it names (so the link stays a link),
// however many links deep; a dangling link names the file to create.
std::filesystem::path resolve_save_target(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path current(path);
  for (int depth = 0; depth < 40; ++depth) {
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    std::error_code ec;
    const fs::path next = fs::read_symlink(current, ec);
    HEED_CHECK(!ec, "cannot save {}: cannot read the symbolic link {}: {}", path, current.string(), ec.message());
    current = next.is_absolute() ? next : current.parent_path() / next;
  }
  fail("cannot save {}: too many levels of symbolic links", path);
}

mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

}  // namespace

void check_input_file(const std::string& path, bool pipes_allowed) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    fail("cannot open {}: {}", path, error == ENOENT ? "no such file" : errno_text(error));
  }
  HEED_CHECK(S_ISREG(st.st_mode) || (pipes_allowed && S_ISFIFO(st.st_mode)), "cannot read {}: it is {}, not a file",
             path, kind_of(st.st_mode));
  HEED_CHECK(::access(path.c_str(), R_OK) == 0, "cannot open {}: {}", path, errno_text(errno));
}

void remove_unfinished_save() noexcept {
  if (g_unfinished_set.load()) ::unlink(g_unfinished);
}

namespace {
extern "C" void on_signal_during_save(int signal) {
  remove_unfinished_save();
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}
}  // namespace

void install_save_cleanup_handlers() {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, on_signal_during_save);
}

namespace {

std::string read_all(const std::string& path, bool fifo_allowed) {
  check_input_file(path, fifo_allowed);
  FileDescriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  HEED_CHECK(file.fd >= 0, "cannot open {}: {}", path, errno_text(errno));
  struct stat st {};
  HEED_CHECK(::fstat(file.fd, &st) == 0, "cannot read {}: {}", path, errno_text(errno));
  // Read in one piece into a buffer of the file's size: a stream's growing copies were a large
  // part of loading a model. A pipe (size 0) or a file that grew meanwhile grows the buffer.
  std::string contents(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0, '\0');
  size_t filled = 0;
  const auto read_some = [&](char* to, size_t n) {
    while (true) {
      const ssize_t got = ::read(file.fd, to, n);
      if (got >= 0) return static_cast<size_t>(got);
      HEED_CHECK(errno == EINTR, "cannot read {}: {}", path, errno_text(errno));
    }
  };
  while (true) {
    if (filled == contents.size()) {  // full: one byte more tells the end from more to come
      char next;
      if (read_some(&next, 1) == 0) break;
      contents.resize(std::max(contents.size() * 2, size_t{1} << 16));
      contents[filled++] = next;
    }
    const size_t got = read_some(contents.data() + filled, contents.size() - filled);
    if (got == 0) break;
    filled += got;
  }
  contents.resize(filled);
  return contents;
}

}  // namespace

std::string read_file(const std::string& path) { return read_all(path, false); }

MappedFile::MappedFile(const std::string& path) {
  check_input_file(path, false);
  FileDescriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  HEED_CHECK(file.fd >= 0, "cannot open {}: {}", path, errno_text(errno));
  struct stat st {};
  HEED_CHECK(::fstat(file.fd, &st) == 0, "cannot read {}: {}", path, errno_text(errno));
  size_ = static_cast<size_t>(st.st_size);
  if (size_ == 0) return;  // nothing to map: bytes() is empty
  data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (data_ == MAP_FAILED) {
    data_ = nullptr;
    fail("cannot read {}: {}", path, errno_text(errno));
  }
  ::madvise(data_, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

void MappedFile::release(std::string_view part) const {
  if (data_ == nullptr || part.empty()) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(part.data()) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(part.data()) + part.size()) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}
std::string read_file_or_pipe(const std::string& path) { return read_all(path, true); }

void write_file_atomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path target = resolve_save_target(path);
  // A file being replaced keeps its permissions (and, when root can, its owner); a new file
  // gets what the umask allows, as any other program's output would. Anything but a regular
  // file is refused: a device or FIFO must never be replaced by one.
  struct stat existing {};
  const bool replacing = ::stat(target.c_str(), &existing) == 0;
  if (replacing && !S_ISREG(existing.st_mode))
    fail("cannot save {}: it is {}, not a file (give the path of a regular file to create or replace)", path,
         kind_of(existing.st_mode));
  const mode_t mode = replacing ? (existing.st_mode & 07777) : (0666 & ~current_umask());
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp.XXXXXX");
  std::string temporary = (directory / name).string();

  FileDescriptor file;
  file.fd = ::mkstemp(temporary.data());
  HEED_CHECK(file.fd >= 0, "cannot save {}: cannot create a file in {}: {}", path, directory.string(), errno_text(errno));
  track_unfinished(temporary);
  const auto give_up = [&](const char* what) {
    const int error = errno;
    ::unlink(temporary.c_str());
    untrack_unfinished();
    fail("cannot save {}: {} failed: {} (the previous file, if any, is unchanged)", path, what, errno_text(error));
  };

  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(file.fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      give_up("writing");
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(file.fd, mode) != 0) give_up("setting permissions");
  if (replacing && ::geteuid() == 0 && ::fchown(file.fd, existing.st_uid, existing.st_gid) != 0) give_up("keeping the owner");
  if (::fsync(file.fd) != 0) give_up("flushing to disk");
  const int fd = file.fd;
  file.fd = -1;
  if (::close(fd) != 0) give_up("closing");
  if (::rename(temporary.c_str(), target.c_str()) != 0) give_up("renaming into place");
  untrack_unfinished();

  // The rename is durable only once the directory entry is on disk too.
  FileDescriptor dir;
  dir.fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir.fd >= 0) ::fsync(dir.fd);
}

}  // namespace heed
