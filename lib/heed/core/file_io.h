#pragma once
// Whole-file reads and atomic writes. A write goes to a temporary file in the target's
// directory, is flushed to disk (fsync), and is renamed over the target, and the directory is
// synced: a crash or a full disk at any moment leaves either the old file or the new one,
// never a mixture, and never a stray temporary.

#include <string>
#include <string_view>

namespace heed {

// Throws heed::Error naming the file when it cannot be opened or read.
std::string read_file(const std::string& path);
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace heed
