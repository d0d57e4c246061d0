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
