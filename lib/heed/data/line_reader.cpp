#include "heed/data/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/text/utf8.h"

namespace heed {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
constexpr unsigned kBufferBytes = 1u << 20;

gzFile gz(void* file) { return static_cast<gzFile>(file); }

}  // namespace

LineReader::LineReader(const std::string& path, ByteOrderMark mark) : path_(path), mark_(mark) {
  check_input_file(path, true);
  file_ = gzopen(path.c_str(), "rb");
  HEED_CHECK(file_ != nullptr, "cannot open {}: {}", path, errno != 0 ? std::strerror(errno) : "out of memory");
  gzbuffer(gz(file_), kBufferBytes);
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(gz(file_));
}

bool LineReader::next(std::string& line) {
  line.clear();
  while (true) {
    const size_t newline = buffer_.find('\n', position_);
    if (newline != std::string::npos) {
      line.append(buffer_, position_, newline - position_);
      position_ = newline + 1;
      break;
    }
    line.append(buffer_, position_, std::string::npos);
    if (!refill()) {
      if (line.empty()) return false;
      break;  // a last line without a newline
    }
  }
  ++number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (number_ == 1 && mark_ == ByteOrderMark::drop && line.starts_with(kByteOrderMark)) line.erase(0, kByteOrderMark.size());
  if (const auto bad = find_invalid_utf8(line)) fail("{}:{}: invalid UTF-8 at byte {} of the line", path_, number_, *bad + 1);
  return true;
}

bool LineReader::refill() {
  buffer_.resize(kBufferBytes);
  position_ = 0;
  const int got = gzread(gz(file_), buffer_.data(), kBufferBytes);
  int code = Z_OK;
  const char* message = gzerror(gz(file_), &code);
  if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    if (code == Z_BUF_ERROR) fail("{}: its gzip data ends early, after line {} (a file cut short?)", path_, number_);
    fail("{}: cannot read past line {}: {}", path_, number_, code == Z_ERRNO ? std::strerror(errno) : message);
  }
  buffer_.resize(static_cast<size_t>(got));
  return got > 0;
}

}  // namespace heed
