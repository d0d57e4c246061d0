#include "input_lines.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/text/utf8.h"

namespace heed::app {

InputLines::InputLines(const std::string& path)
    : name_(path == "-" ? "standard input" : path), in_(&std::cin) {
  if (path == "-") return;
  check_input_file(path, true);
  file_.open(path, std::ios::binary);
  in_ = &file_;
  struct stat info {};
  seekable_ = ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

InputLines::~InputLines() {
  std::free(copy_line_);
  if (copy_ != nullptr) std::fclose(copy_);
}

void InputLines::check_all_utf8() {
  if (!seekable_) {
    copy_ = std::tmpfile();
    HEED_CHECK(copy_ != nullptr, "--strict: cannot make a temporary file to hold {} while it is checked: {}", name_,
               std::strerror(errno));
  }
  std::string line;
  int64_t number = 0;
  while (std::getline(*in_, line)) {
    ++number;
    if (const auto bad = find_invalid_utf8(line))
      fail("{} line {}: invalid UTF-8 at byte {} (--strict: nothing was translated)", name_, number, *bad + 1);
    if (copy_ != nullptr) {
      line += '\n';
      HEED_CHECK(std::fwrite(line.data(), 1, line.size(), copy_) == line.size(),
                 "--strict: cannot hold {} in a temporary file while it is checked: {}", name_, std::strerror(errno));
    }
  }
  if (copy_ != nullptr) {
    HEED_CHECK(std::fflush(copy_) == 0, "--strict: cannot hold {} in a temporary file while it is checked: {}", name_,
               std::strerror(errno));
    std::rewind(copy_);
  } else {
    file_.clear();
    file_.seekg(0);
  }
}

bool InputLines::next(std::string& line) {
  if (copy_ == nullptr) return static_cast<bool>(std::getline(*in_, line));
  const ssize_t length = ::getline(&copy_line_, &copy_capacity_, copy_);
  if (length < 0) return false;
  line.assign(copy_line_, static_cast<size_t>(length));
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return true;
}

}  // namespace heed::app
