// Saving and reading files as a hostile user would try them: links, devices, FIFOs, modes.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <algorithm>
#include <filesystem>
#include <string>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/train/output_directory.h"
#include "heed/train/stop_signal.h"
#include "support.h"

namespace heed {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode;
}

TEST_CASE("a save through a symbolic link replaces the file it names and keeps the link") {
  TempDir dir;
  write_file_atomically(dir.file("real.heed"), "old");
  fs::create_symlink("real.heed", dir.file("link.heed"));
  write_file_atomically(dir.file("link.heed"), "new");
  CHECK(fs::is_symlink(dir.file("link.heed")));
  CHECK(read_file(dir.file("real.heed")) == "new");
  // A dangling link names the file to create.
  fs::create_symlink("created.heed", dir.file("dangling.heed"));
  write_file_atomically(dir.file("dangling.heed"), "made");
  CHECK(fs::is_symlink(dir.file("dangling.heed")));
  CHECK(read_file(dir.file("created.heed")) == "made");
}

TEST_CASE("a save refuses a device, a FIFO and a directory, and leaves them as they were") {
  TempDir dir;
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0644) == 0);
  fs::create_directory(dir.file("folder"));
  const std::string fifo = error_of([&] { write_file_atomically(dir.file("fifo"), "x"); });
  CHECK(fifo.find("it is a FIFO") != std::string::npos);
  CHECK(S_ISFIFO(mode_of(dir.file("fifo"))));
  const std::string folder = error_of([&] { write_file_atomically(dir.file("folder"), "x"); });
  CHECK(folder.find("it is a directory") != std::string::npos);
  CHECK(fs::is_directory(dir.file("folder")));
  if (fs::exists("/dev/full")) {
    const std::string device = error_of([] { write_file_atomically("/dev/full", "x"); });
    CHECK(device.find("/dev/full: it is a character device") != std::string::npos);
    CHECK(S_ISCHR(mode_of("/dev/full")));
  }
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++entries;
  CHECK(entries == 2);  // no temporary left behind
}

TEST_CASE("a save keeps the mode of the file it replaces, and a new file follows the umask") {
  TempDir dir;
  const std::string path = dir.file("private.heed");
  write_file_atomically(path, "v1");
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  write_file_atomically(path, "v2");
  CHECK((mode_of(path) & 07777) == 0600);
  const mode_t old_mask = ::umask(027);
  write_file_atomically(dir.file("new.heed"), "v1");
  ::umask(old_mask);
  CHECK((mode_of(dir.file("new.heed")) & 07777) == 0640);
}

TEST_CASE("a save as root keeps the owner of the file it replaces") {
  if (::geteuid() != 0) return;  // only root can give a file to someone else
  TempDir dir;
  const std::string path = dir.file("theirs.heed");
  write_file_atomically(path, "v1");
  REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
  write_file_atomically(path, "v2");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK(st.st_gid == 65534);
}

TEST_CASE("reading a model file refuses a FIFO and a device at once instead of blocking or reading forever") {
  TempDir dir;
  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0644) == 0);
  CHECK(error_of([&] { read_file(dir.file("fifo")); }).find("it is a FIFO, not a file") != std::string::npos);
  if (fs::exists("/dev/zero"))
    CHECK(error_of([] { read_file("/dev/zero"); }).find("it is a character device") != std::string::npos);
  CHECK(error_of([&] { read_file(dir.path.string()); }).find("it is a directory") != std::string::npos);
  CHECK(error_of([&] { read_file(dir.file("missing")); }).find("no such file") != std::string::npos);
}

TEST_CASE("a file and a FIFO are read whole, every byte as written, NULs included") {
  TempDir dir;
  std::string bytes(200'003, '\0');  // past the first buffer a FIFO's read starts with (64 KiB)
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) % 251);
  write_file_atomically(dir.file("file"), bytes);
  CHECK(read_file(dir.file("file")) == bytes);
  write_file_atomically(dir.file("empty"), "");
  CHECK(read_file(dir.file("empty")).empty());

  REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0644) == 0);
  const pid_t writer = ::fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {  // the child writes the bytes into the FIFO in uneven pieces, then exits
    const int fd = ::open(dir.file("fifo").c_str(), O_WRONLY);
    for (size_t at = 0; fd >= 0 && at < bytes.size(); at += 7'777)
      if (::write(fd, bytes.data() + at, std::min<size_t>(7'777, bytes.size() - at)) < 0) ::_exit(1);
    ::_exit(fd >= 0 ? 0 : 1);
  }
  const std::string piped = read_file_or_pipe(dir.file("fifo"));
  int status = 0;
  ::waitpid(writer, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(piped == bytes);
}

// A child process starts a long save after `arm`, and is sent SIGTERM while (most likely) writing:
// it must end by the signal with no temporary file left, and the target absent, never partial.
void check_signal_during_save(void (*arm)()) {
  TempDir dir;
  const std::string target = dir.file("model.heed");
  const std::string payload(size_t{256} << 20, 'x');  // long enough to be written while the signal lands
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    arm();
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
    write_file_atomically(target, payload);
    ::_exit(0);
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::usleep(2000);
  ::kill(child, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const bool during = WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
  MESSAGE(std::string(during ? "the signal landed during the save" : "the save finished before the signal"));
  int temporaries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path))
    temporaries += entry.path().filename().string().starts_with(".model.heed.tmp.");
  CHECK(temporaries == 0);
  if (during) CHECK(!fs::exists(target));  // the old state (none), never a partial file
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("a second stop signal during a save removes the save's temporary file") {
  check_signal_during_save([] {
    install_stop_handlers();
    request_stop();  // a first Ctrl-C: the next signal ends the process at once
  });
}

TEST_CASE("a command killed during a save (convert, average, vocab) leaves no temporary file") {
  check_signal_during_save(install_save_cleanup_handlers);
}

TEST_CASE("an output directory is held by one training at a time, and a failed run leaves none behind") {
  TempDir dir;
  const std::string out = dir.file("run/inner");
  {
    OutputDirectory first(out, OutputUse::fresh);
    CHECK(fs::is_directory(out));
    const std::string second = error_of([&] { OutputDirectory again(out, OutputUse::fresh); });
    CHECK(second.find("in use by another heed train (pid " + std::to_string(::getpid()) + ")") != std::string::npos);
  }
  // Nothing was written: the folders this run made are gone again.
  CHECK(!fs::exists(dir.file("run")));
  {
    OutputDirectory kept(out, OutputUse::fresh);
    write_file_atomically(out + "/best.heed", "model");
  }
  CHECK(fs::exists(out + "/best.heed"));
  { OutputDirectory resumed(out, OutputUse::resume); }  // the lock was released with the first holder
  CHECK(error_of([&] { OutputDirectory missing(dir.file("absent"), OutputUse::resume); }).find("no such directory") != std::string::npos);
  CHECK(!fs::exists(dir.file("absent")));
}

TEST_CASE("a new training never writes over another's files: it resumes it, or --overwrite removes them first") {
  TempDir dir;
  const std::string out = dir.file("run");
  fs::create_directory(out);
  for (const char* name : {"best.heed", "metrics.tsv", "update-400.heed"}) write_file_atomically(out + "/" + name, "old");
  write_file_atomically(out + "/notes.txt", "the user's");
  write_file_atomically(out + "/update-x.heed", "the user's");
  const std::string refused = error_of([&] { OutputDirectory fresh(out, OutputUse::fresh); });
  CHECK(refused.find("holds another training (best.heed, metrics.tsv, update-400.heed)") != std::string::npos);
  CHECK(refused.find("--resume " + out) != std::string::npos);
  CHECK(refused.find("--overwrite") != std::string::npos);
  CHECK(fs::exists(out + "/best.heed"));
  { OutputDirectory resumed(out, OutputUse::resume); }
  CHECK(fs::exists(out + "/update-400.heed"));
  { OutputDirectory overwritten(out, OutputUse::overwrite); }
  for (const char* gone : {"best.heed", "metrics.tsv", "update-400.heed"}) CHECK(!fs::exists(out + "/" + gone));
  CHECK(fs::exists(out + "/notes.txt"));  // what is not a training's file stays
  CHECK(fs::exists(out + "/update-x.heed"));
  { OutputDirectory empty_again(out, OutputUse::fresh); }  // nothing of a training left: a fresh run may start
}

TEST_CASE("kept models are named update-U.heed, and only such names are read as one") {
  CHECK(kept_model_name(1200) == "update-1200.heed");
  CHECK(kept_model_update("update-1200.heed") == 1200);
  for (const char* other : {"update-.heed", "update-12a.heed", "update-12.heed.tmp", "update--3.heed", "best.heed", "update-12"})
    CHECK_FALSE(kept_model_update(other).has_value());
}

}  // namespace
}  // namespace heed
