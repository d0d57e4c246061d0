#pragma once
// The directory a training writes to, held for the training's lifetime:
// - made when missing (never for --resume, which needs the checkpoint already there), and removed
//   again when the run fails before writing anything into it;
// - checked for writability before hours of work;
// - locked, one training per directory: two runs writing best.heed and checkpoint.state into the
//   same folder would leave files from both. The lock is an flock(2) on DIR/.heed-train.lock, so
//   the kernel drops it when the process ends however it ends (kill -9 included); the file holds
//   the owner's pid for the message a second run prints.

#include <string>

namespace heed {

inline constexpr const char* kOutputLockFile = ".heed-train.lock";

class OutputDirectory {
 public:
  // Throws heed::Error naming the directory (and the running owner's pid when it is locked).
  OutputDirectory(const std::string& directory, bool resuming);
  ~OutputDirectory();
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;

 private:
  std::string directory_;
  std::string created_;  // the topmost folder this run made, or empty
  int lock_fd_ = -1;
};

}  // namespace heed
