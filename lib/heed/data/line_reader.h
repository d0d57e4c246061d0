#pragma once
// A text file read a line at a time, plain or gzipped (zlib reads either, told apart by the
// first bytes), so that a corpus of a million lines passes through a buffer of a megabyte rather
// than being held whole beside what is made of it. Each line as every reader takes it: a Windows
// line end dropped, UTF-8 checked, named by file and line in errors.

#include <cstdint>
#include <string>

namespace heed {

// A UTF-8 byte-order mark at the start of a file (as Windows editors save text) is a signature,
// not text: dropped, so that it does not join the first sentence or the first link. Scoring keeps
// it, as sacreBLEU reads it (as a character of the first word).
enum class ByteOrderMark : bool { drop, keep };

class LineReader {
 public:
  // Regular files and FIFOs (`<(zcat corpus.gz)`); throws naming the file if it cannot be read.
  explicit LineReader(const std::string& path, ByteOrderMark mark = ByteOrderMark::drop);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, without its newline (a last line without one counts); false at the end.
  // Throws naming the file and line for invalid UTF-8, and for damaged or truncated gzip data.
  bool next(std::string& line);
  // The number of the line next() returned last, from 1.
  int64_t line_number() const { return number_; }

 private:
  bool refill();  // the next block of text into buffer_; false at the end

  void* file_ = nullptr;  // zlib's gzFile
  std::string buffer_;    // text read ahead
  size_t position_ = 0;   // where in buffer_ the next line starts
  std::string path_;
  ByteOrderMark mark_;
  int64_t number_ = 0;
};

}  // namespace heed
