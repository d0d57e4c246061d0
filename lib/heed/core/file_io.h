#pragma once
// Whole-file reads and atomic writes. A write goes to a temporary file in the target's
// directory, is flushed to disk (fsync), and is renamed over the target, and the directory is
// synced: a crash or a full disk at any moment leaves either the old file or the new one,
// never a mixture, and never a stray temporary. A symbolic link is followed and the file it names
// replaced; a file replaced keeps its mode (and owner, as root); a device, FIFO, socket or
// directory is refused, never replaced by a regular file.

#include <string>
#include <string_view>

namespace heed {

// Throws heed::Error naming the file when it cannot be opened or read, or is not a regular file
// (a device such as /dev/zero would never end; a FIFO could block forever).
std::string read_file(const std::string& path);
// As read_file, and a FIFO too, for text read once (a corpus from `<(zcat corpus.gz)`).
std::string read_file_or_pipe(const std::string& path);
void write_file_atomically(const std::string& path, std::string_view contents);

// A regular file mapped read-only into memory, for reading a large file (a model) without a copy
// of it: its pages are read from the page cache as they are touched, and release() hands those of
// a part already read back, so that a model's load does not hold the file beside the weights made
// from it. Opening refuses what read_file refuses, with the same messages.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  // Drops the whole pages inside `part` (a view into bytes()) from memory; reading them again
  // reads them again from the file. Safe from any thread.
  void release(std::string_view part) const;

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};
// Throws unless `path` names an existing, readable regular file (or, with pipes allowed, a FIFO
// such as `<(zcat corpus.gz)`), with a message that says which of these it is not.
void check_input_file(const std::string& path, bool pipes_allowed);
// Removes the temporary file of a save in progress, if any: async-signal-safe, for a handler that
// ends the process in the middle of a save.
void remove_unfinished_save() noexcept;
// SIGINT, SIGTERM and SIGHUP end the process as they would by default, but first remove the
// temporary file of a save in progress: a command killed while it writes leaves no hidden
// half-written file. (Training installs its own handlers, which stop at the next update.)
void install_save_cleanup_handlers();


}  // namespace heed
