#pragma once
// The directory a training writes to, held for the training's lifetime:
// - made when missing (never for --resume, which needs the checkpoint already there), and removed
//   again when the run fails before writing anything into it;
// - checked for writability before hours of work;
// - locked, one training per directory: two runs writing best.heed and checkpoint.state into the
//   same folder would leave files from both. The lock is an flock(2) on DIR/.heed-train.lock, so
//   the kernel drops it when the process ends however it ends (kill -9 included); the file holds
//   the owner's pid for the message a second run prints;
// - never shared by two trainings in time either: a new training into a directory that holds
//   another's files is refused (its best.heed, checkpoint and metrics would be overwritten and
//   mixed with the new run's) unless it resumes that training or is told to start afresh, which
//   removes them first.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heed {

inline constexpr const char* kOutputLockFile = ".heed-train.lock";
// The file names a training writes inside its directory.
inline constexpr const char* kBestModelFile = "best.heed";
inline constexpr const char* kLastModelFile = "last.heed";
inline constexpr const char* kMetricsFile = "metrics.tsv";  // see metrics_log.h
inline constexpr const char* kReportFile = "report.html";  // see training_report.h
inline constexpr const char* kCheckpointFile = "checkpoint.state";

// update-U.heed, a model kept by --keep-last: "update-1200.heed" -> 1200; anything else -> none.
std::optional<int64_t> kept_model_update(const std::string& file_name);
std::string kept_model_name(int64_t update);

enum class OutputUse {
  fresh,      // a new training: the directory must hold no other training's files
  resume,     // continue the training whose checkpoint the directory holds
  overwrite,  // a new training that first removes another training's files (--overwrite)
};

class OutputDirectory {
 public:
  // Throws heed::Error naming the directory (and the running owner's pid when it is locked).
  OutputDirectory(const std::string& directory, OutputUse use);
  ~OutputDirectory();
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;

 private:
  std::string directory_;
  std::string created_;  // the topmost folder this run made, or empty
  int lock_fd_ = -1;
};

}  // namespace heed
