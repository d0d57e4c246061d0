#include "heed/core/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "heed/core/error.h"
#include "heed/core/system_memory.h"

namespace heed {

bool looks_gzipped(std::string_view bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b && bytes[2] == 8;
}

std::string gunzip(std::string_view compressed, const std::string& what) {
  std::string out;
  size_t filled = 0;    // bytes of `out` written
  size_t consumed = 0;  // bytes of `compressed` read
  // One member at a time: zlib's inflate stops at the end of each.
  while (consumed < compressed.size()) {
    HEED_CHECK(looks_gzipped(compressed.substr(consumed)),
               "{}: the {} bytes after its gzip data are not gzip (a damaged file?)", what, compressed.size() - consumed);
    z_stream z{};
    HEED_CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, "{}: cannot start gzip decompression", what);
    int status = Z_OK;
    while (status == Z_OK) {
      if (filled == out.size()) {
        // Text compresses 3 to 4 times: start there, then double.
        const size_t grown = std::max<size_t>(2 * out.size(), 4 * compressed.size() + 65536);
        if (grown > available_memory_bytes()) {
          inflateEnd(&z);
          fail("{}: decompressed, it is larger than the {} MB of memory free", what, available_memory_bytes() >> 20);
        }
        out.resize(grown);
      }
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + consumed));
      z.avail_in = static_cast<uInt>(std::min<size_t>(compressed.size() - consumed, UINT_MAX));
      z.next_out = reinterpret_cast<Bytef*>(out.data() + filled);
      z.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - filled, UINT_MAX));
      const uInt in_before = z.avail_in, out_before = z.avail_out;
      status = inflate(&z, Z_NO_FLUSH);
      consumed += in_before - z.avail_in;
      filled += out_before - z.avail_out;
    }
    const std::string message = z.msg != nullptr ? z.msg : "";
    inflateEnd(&z);
    if (status == Z_STREAM_END) continue;
    if (status == Z_BUF_ERROR && consumed == compressed.size())
      fail("{}: its gzip data ends early, after {} bytes of text (a file cut short?)", what, filled);
    fail("{}: its gzip data is damaged after {} bytes of text{}", what, filled, message.empty() ? "" : ": " + message);
  }
  out.resize(filled);
  return out;
}

std::string text_of(std::string bytes, const std::string& what) {
  return looks_gzipped(bytes) ? gunzip(bytes, what) : std::move(bytes);
}

}  // namespace heed
