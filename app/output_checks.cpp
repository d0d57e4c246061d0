#include "output_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "heed/core/error.h"

namespace heed::app {
namespace {

// The file behind a path, or behind standard input/output for "-": device and inode. Only
// regular files: a terminal or a pipe on both sides is no file to destroy.
std::optional<std::pair<dev_t, ino_t>> file_identity(const std::string& path, int standard_fd) {
  struct stat st {};
  const int rc = path == "-" ? ::fstat(standard_fd, &st) : ::stat(path.c_str(), &st);
  if (rc != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

}  // namespace

void check_output_is_not_input(const std::string& output, const std::vector<NamedInput>& inputs) {
  const auto out = file_identity(output, STDOUT_FILENO);
  if (!out) return;
  for (const NamedInput& input : inputs) {
    if (input.path.empty()) continue;
    const auto in = file_identity(input.path, STDIN_FILENO);
    if (in && *in == *out)
      fail("the output {} is the input {} ({}): writing it would destroy what it holds; write to another file",
           output == "-" ? "(standard output)" : output, input.path == "-" ? "(standard input)" : input.path, input.option);
  }
}

}  // namespace heed::app
