#pragma once
// The lines that `heed translate` reads, from a file or standard input. With --strict, every line
// is checked for valid UTF-8 before the first one is translated, without holding the input in
// memory: a regular file is read twice; a pipe or a terminal is copied, as it is checked, to an
// unnamed temporary file that the system removes when heed exits.

#include <cstdio>
#include <fstream>
#include <istream>
#include <string>

namespace heed::app {

class InputLines {
 public:
  explicit InputLines(const std::string& path);  // "-": standard input
  ~InputLines();
  InputLines(const InputLines&) = delete;
  InputLines& operator=(const InputLines&) = delete;

  // Throws, naming the line and byte, at the first line that is not valid UTF-8; after it, next()
  // starts again from the first line.
  void check_all_utf8();
  // The next line, without its line break; false at the end.
  bool next(std::string& line);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::ifstream file_;
  std::istream* in_;
  bool seekable_ = false;
  std::FILE* copy_ = nullptr;  // standard input or a pipe, kept for the second reading
  char* copy_line_ = nullptr;  // getline(3)'s buffer
  size_t copy_capacity_ = 0;
};

}  // namespace heed::app
