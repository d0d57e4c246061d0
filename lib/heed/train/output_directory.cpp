#include "heed/train/output_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string>

#include "heed/core/error.h"
#include "heed/core/file_io.h"

namespace heed {
namespace {

namespace fs = std::filesystem;

fs::path normalized(const fs::path& directory) {
  fs::path p = fs::absolute(directory).lexically_normal();
  return p.has_filename() ? p : p.parent_path();
}

// The first missing folder on the way to `directory`: what create_directories will make.
std::string first_missing(const fs::path& directory) {
  fs::path missing;
  for (fs::path p = normalized(directory); !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  return missing.string();
}

int lock_directory(const std::string& directory) {
  const std::string path = (fs::path(directory) / kOutputLockFile).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  HEED_CHECK(fd >= 0, "cannot lock the output directory {}: cannot open {}: {}", directory, path, std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char owner[32] = {};
    const ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    HEED_CHECK(error == EWOULDBLOCK, "cannot lock the output directory {}: {}", directory, std::strerror(error));
    std::string pid = n > 0 ? std::string(owner, static_cast<size_t>(n)) : std::string("unknown");
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    fail("the output directory {} is in use by another heed train (pid {}): wait for it to finish, stop it, or "
         "choose another --output", directory, pid);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // The pid only serves the message another run prints; the lock holds without it.
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
  }
  return fd;
}

bool is_training_file(const std::string& name) {
  for (const char* file : {kBestModelFile, kLastModelFile, kMetricsFile, kReportFile, kCheckpointFile})
    if (name == file) return true;
  return kept_model_update(name).has_value();
}

// The files another training left in `directory`, by name, sorted.
std::vector<std::string> training_files(const std::string& directory) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_training_file(name)) found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::optional<int64_t> kept_model_update(const std::string& file_name) {
  constexpr std::string_view prefix = "update-", suffix = ".heed";
  if (file_name.size() <= prefix.size() + suffix.size() || file_name.rfind(prefix, 0) != 0 ||
      file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const char* first = file_name.data() + prefix.size();
  const char* last = file_name.data() + file_name.size() - suffix.size();
  int64_t update = 0;
  const auto [end, ec] = std::from_chars(first, last, update);
  if (ec != std::errc() || end != last || update < 0) return std::nullopt;
  return update;
}

std::string kept_model_name(int64_t update) { return "update-" + std::to_string(update) + std::string(".heed"); }

OutputDirectory::OutputDirectory(const std::string& directory, OutputUse use) : directory_(directory) {
  std::error_code ec;
  if (use == OutputUse::resume) {
    HEED_CHECK(fs::is_directory(directory, ec), "--resume {}: no such directory (nothing to resume)", directory);
  } else {
    HEED_CHECK(!fs::exists(directory, ec) || fs::is_directory(directory, ec),
               "the output {} exists and is not a directory", directory);
    created_ = first_missing(directory);
    fs::create_directories(directory, ec);
    HEED_CHECK(!ec, "cannot create the output directory {}: {}", directory, ec.message());
  }
  try {
    const std::string probe = (fs::path(directory) / ".heed-write-test").string();
    try {
      write_file_atomically(probe, "ok");
    } catch (const Error& e) {
      fail("the output directory {} is not writable: {}", directory, e.what());
    }
    fs::remove(probe, ec);
    lock_fd_ = lock_directory(directory);
    if (use != OutputUse::resume) {
      const std::vector<std::string> found = training_files(directory);
      if (!found.empty() && use == OutputUse::fresh) {
        const size_t shown = std::min<size_t>(found.size(), 4);
        std::string names;
        for (size_t i = 0; i < shown; ++i) names += (i ? ", " : "") + found[i];
        if (shown < found.size()) names += fmt::format(" and {} more", found.size() - shown);
        fail("the output directory {} holds another training ({}): continue it with --resume {}, choose another "
             "--output, or give --overwrite to remove its files and start afresh", directory, names, directory);
      }
      for (const std::string& name : found) {
        fs::remove(fs::path(directory) / name, ec);
        HEED_CHECK(!ec, "--overwrite: cannot remove {}: {}", (fs::path(directory) / name).string(), ec.message());
      }
    }
  } catch (...) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    if (!created_.empty()) fs::remove_all(created_, ec);
    throw;
  }
}

// A directory this run made and left holding nothing but its lock is removed: a failed run
// leaves no trace. The lock file itself stays in a directory with results (removing it could
// race with a second run that has just opened it).
OutputDirectory::~OutputDirectory() {
  std::error_code ec;
  if (!created_.empty()) {
    bool only_lock = true;
    for (const auto& entry : fs::directory_iterator(directory_, ec))
      if (entry.path().filename() != kOutputLockFile) only_lock = false;
    if (only_lock && !ec) {
      fs::remove(fs::path(directory_) / kOutputLockFile, ec);
      // Remove the empty folders this run made, from the output up to the first one it created.
      for (fs::path p = normalized(directory_); fs::remove(p, ec) && p != fs::path(created_);
           p = p.parent_path()) {
      }
    }
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace heed
