#include "heed/core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "heed/core/error.h"

namespace heed {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

// Closes a descriptor on every path out of a scope.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  HEED_CHECK(std::filesystem::exists(path, ec), "cannot open {}: no such file", path);
  HEED_CHECK(!std::filesystem::is_directory(path, ec), "cannot read {}: it is a directory", path);
  std::ifstream in(path, std::ios::binary);
  HEED_CHECK(in.good(), "cannot open {}: {}", path, errno_text(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  HEED_CHECK(!in.bad(), "cannot read {}: {}", path, errno_text(errno));
  return std::move(contents).str();
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp.XXXXXX");
  std::string temporary = (directory / name).string();

  FileDescriptor file;
  file.fd = ::mkstemp(temporary.data());
  HEED_CHECK(file.fd >= 0, "cannot save {}: cannot create a file in {}: {}", path, directory.string(), errno_text(errno));
  const auto give_up = [&](const char* what) {
    const int error = errno;
    ::unlink(temporary.c_str());
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
  if (::fchmod(file.fd, 0644) != 0) give_up("setting permissions");
  if (::fsync(file.fd) != 0) give_up("flushing to disk");
  const int fd = file.fd;
  file.fd = -1;
  if (::close(fd) != 0) give_up("closing");
  if (::rename(temporary.c_str(), path.c_str()) != 0) give_up("renaming into place");

  // The rename is durable only once the directory entry is on disk too.
  FileDescriptor dir;
  dir.fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir.fd >= 0) ::fsync(dir.fd);
}

}  // namespace heed
