#include "heed/core/npz.h"

#include <zlib.h>

#include <climits>
#include <cstring>
#include <string_view>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/half.h"

namespace heed {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfDirectory = 0x06054b50,
                   kZip64Locator = 0x07064b50, kZip64End = 0x06064b50;
constexpr uint32_t kZip64Marker = 0xFFFFFFFF;

// Little-endian fields of the archive, each read after checking that it lies inside the bytes.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  uint64_t le(size_t at, int width) const {
    HEED_CHECK(at <= bytes_.size() && static_cast<size_t>(width) <= bytes_.size() - at,
               "{}: a zip record at byte {} runs past the end of the file (cut short?)", what_, at);
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes_[at + static_cast<size_t>(i)]);
    return v;
  }
  std::string_view range(uint64_t at, uint64_t size, const std::string& of) const {
    HEED_CHECK(at <= bytes_.size() && size <= bytes_.size() - at,
               "{}: {} lies at bytes {} to {}, past the file's {} bytes (cut short?)", what_, of, at, at + size,
               bytes_.size());
    return bytes_.substr(static_cast<size_t>(at), static_cast<size_t>(size));
  }
  size_t size() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
  const std::string& what_;
};

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

// The central directory: where the end record says, its count of entries from the zip64 record
// when the plain one overflowed (numpy writes zip64 fields).
std::vector<ZipEntry> central_directory(const Reader& in, const std::string& what) {
  HEED_CHECK(in.size() >= 22, "{}: not a zip archive ({} bytes)", what, in.size());
  size_t end = in.size() - 22;
  const size_t lowest = in.size() > 22 + 65535 ? in.size() - 22 - 65535 : 0;  // the comment is at most 64 kB
  while (in.le(end, 4) != kEndOfDirectory) {
    HEED_CHECK(end > lowest, "{}: not a zip archive (no end-of-directory record; a .npz file cut short?)", what);
    --end;
  }
  uint64_t count = in.le(end + 10, 2), offset = in.le(end + 16, 4);
  if ((count == 0xFFFF || offset == kZip64Marker) && end >= 20 && in.le(end - 20, 4) == kZip64Locator) {
    const uint64_t record = in.le(end - 20 + 8, 8);
    HEED_CHECK(in.le(record, 4) == kZip64End, "{}: its zip64 end record is missing or damaged", what);
    count = in.le(record + 32, 8);
    offset = in.le(record + 48, 8);
  }
  std::vector<ZipEntry> entries;
  uint64_t at = offset;
  for (uint64_t i = 0; i < count; ++i) {
    HEED_CHECK(in.le(at, 4) == kCentralHeader, "{}: entry {} of its zip directory is damaged", what, i + 1);
    ZipEntry e;
    HEED_CHECK((in.le(at + 8, 2) & 1) == 0, "{}: entry {} is encrypted", what, i + 1);
    e.method = static_cast<uint16_t>(in.le(at + 10, 2));
    e.crc = static_cast<uint32_t>(in.le(at + 16, 4));
    e.compressed = in.le(at + 20, 4);
    e.uncompressed = in.le(at + 24, 4);
    const uint64_t name_length = in.le(at + 28, 2), extra_length = in.le(at + 30, 2), comment_length = in.le(at + 32, 2);
    e.local_offset = in.le(at + 42, 4);
    e.name = std::string(in.range(at + 46, name_length, "an entry's name"));
    // Zip64: the fields that overflowed, in this order, in the extra field with id 1.
    for (uint64_t x = at + 46 + name_length; x + 4 <= at + 46 + name_length + extra_length;) {
      const uint64_t id = in.le(x, 2), size = in.le(x + 2, 2);
      if (id == 1) {
        uint64_t field = x + 4;
        for (uint64_t* value : {&e.uncompressed, &e.compressed, &e.local_offset})
          if (*value == kZip64Marker) {
            *value = in.le(field, 8);
            field += 8;
          }
      }
      x += 4 + size;
    }
    entries.push_back(std::move(e));
    at += 46 + name_length + extra_length + comment_length;
  }
  return entries;
}

std::string inflated(std::string_view compressed, uint64_t size, const std::string& what) {
  // Deflate shrinks data at most 1032 times: a larger size is a damaged directory, not an array.
  HEED_CHECK(size / 1032 <= compressed.size() + 1, "{}: its directory says {} bytes from {} deflated ones (damaged)",
             what, size, compressed.size());
  std::string out(static_cast<size_t>(size), '\0');
  z_stream z{};
  HEED_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, "{}: cannot start decompression", what);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(compressed.size(), UINT_MAX));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT_MAX));
  const int status = inflate(&z, Z_FINISH);
  const bool whole = status == Z_STREAM_END && z.total_out == size;
  inflateEnd(&z);
  HEED_CHECK(whole, "{}: its deflated data is damaged", what);
  return out;
}

int64_t item_bytes(const std::string& dtype) {
  if (dtype.size() < 3) return 0;
  int64_t bytes = 0;
  for (char c : dtype.substr(2)) {
    if (c < '0' || c > '9' || bytes > 64) return 0;
    bytes = bytes * 10 + (c - '0');
  }
  return bytes;
}

// The value of `key` in a .npy header, a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (512, 2048), }.
std::string_view header_value(std::string_view header, std::string_view key, const std::string& what) {
  const std::string quoted = "'" + std::string(key) + "'";
  const size_t at = header.find(quoted);
  HEED_CHECK(at != std::string_view::npos, "{}: its .npy header has no {}", what, quoted);
  size_t begin = header.find(':', at + quoted.size());
  HEED_CHECK(begin != std::string_view::npos, "{}: its .npy header is malformed at {}", what, quoted);
  ++begin;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  const char open = begin < header.size() ? header[begin] : '\0';
  const char close = open == '\'' ? '\'' : open == '(' ? ')' : ',';
  const size_t end = header.find(close, begin + (open == '\'' || open == '(' ? 1 : 0));
  HEED_CHECK(end != std::string_view::npos, "{}: its .npy header is malformed at {}", what, quoted);
  return open == '\'' ? header.substr(begin + 1, end - begin - 1) : header.substr(begin, end - begin + (open == '(' ? 1 : 0));
}

Npz::Array parse_npy(std::string name, std::string_view npy, const std::string& what) {
  HEED_CHECK(npy.size() >= 10 && npy.substr(0, 6) == "\x93NUMPY", "{}: not a .npy array", what);
  const int major = static_cast<unsigned char>(npy[6]);
  HEED_CHECK(major >= 1 && major <= 3, "{}: .npy version {} is not known", what, major);
  const Reader in(npy, what);
  const uint64_t header_length = major == 1 ? in.le(8, 2) : in.le(8, 4);
  const uint64_t header_start = major == 1 ? 10 : 12;
  const std::string_view header = in.range(header_start, header_length, "the .npy header");
  Npz::Array array;
  array.name = std::move(name);
  array.dtype = std::string(header_value(header, "descr", what));
  HEED_CHECK(header_value(header, "fortran_order", what) == "False",
             "{}: stored in Fortran order, which heed does not read", what);
  const std::string_view shape = header_value(header, "shape", what);
  HEED_CHECK(shape.size() >= 2 && shape.front() == '(' && shape.back() == ')', "{}: malformed shape {}", what, shape);
  int64_t count = 1;
  for (size_t i = 1; i + 1 < shape.size();) {
    while (i + 1 < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i + 1 >= shape.size()) break;
    int64_t dim = 0;
    HEED_CHECK(shape[i] >= '0' && shape[i] <= '9', "{}: malformed shape {}", what, shape);
    for (; shape[i] >= '0' && shape[i] <= '9'; ++i) {
      dim = dim * 10 + (shape[i] - '0');
      HEED_CHECK(dim <= (int64_t{1} << 40), "{}: shape dimension out of range in {}", what, shape);
    }
    HEED_CHECK(dim == 0 || count <= (int64_t{1} << 40) / dim, "{}: shape {} out of range", what, shape);
    array.shape.push_back(dim);
    count *= dim;
  }
  const int64_t item = item_bytes(array.dtype);
  HEED_CHECK(item > 0, "{}: unknown dtype {}", what, array.dtype);
  const uint64_t data_start = header_start + header_length;
  HEED_CHECK(npy.size() - data_start == static_cast<uint64_t>(count * item),
             "{}: {} bytes of data for a {} array of {} values", what, npy.size() - data_start, array.dtype, count);
  array.data = std::string(npy.substr(static_cast<size_t>(data_start)));
  return array;
}

}  // namespace

Npz Npz::read(const std::string& path) { return parse(read_file(path), path); }

Npz Npz::parse(const std::string& bytes, const std::string& what) {
  Npz npz;
  npz.what_ = what;
  const Reader in(bytes, what);
  for (const ZipEntry& e : central_directory(in, what)) {
    const std::string where = what + ": " + e.name;
    HEED_CHECK(in.le(e.local_offset, 4) == kLocalHeader, "{}: its zip entry header is damaged", where);
    const uint64_t start = e.local_offset + 30 + in.le(e.local_offset + 26, 2) + in.le(e.local_offset + 28, 2);
    const std::string_view stored = in.range(start, e.compressed, e.name);
    std::string npy;
    if (e.method == 0) {
      HEED_CHECK(e.compressed == e.uncompressed, "{}: stored with sizes {} and {}", where, e.compressed, e.uncompressed);
      npy = std::string(stored);
    } else if (e.method == 8) {
      npy = inflated(stored, e.uncompressed, where);
    } else {
      fail("{}: compressed with zip method {}; heed reads stored and deflated entries (numpy.savez and "
           "numpy.savez_compressed)", where, e.method);
    }
    const uLong crc = crc32_z(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(npy.data()), npy.size());
    HEED_CHECK(crc == e.crc, "{}: its checksum does not match its data (a damaged file)", where);
    std::string name = e.name;
    if (name.ends_with(".npy")) name.resize(name.size() - 4);
    npz.arrays_.push_back(parse_npy(std::move(name), npy, where));
  }
  return npz;
}

const Npz::Array* Npz::find(const std::string& name) const {
  for (const Array& a : arrays_)
    if (a.name == name) return &a;
  return nullptr;
}

Tensor Npz::f32(const std::string& name) const {
  const Array* a = find(name);
  HEED_CHECK(a != nullptr, "{}: no array {}", what_, name);
  Shape shape;
  for (int64_t d : a->shape) shape.push_back(d);
  Tensor t = Tensor::empty(shape, DType::f32);
  float* out = t.f32();
  const int64_t n = t.numel();
  if (a->dtype == "<f4") {
    std::memcpy(out, a->data.data(), static_cast<size_t>(n) * 4);
  } else if (a->dtype == "<f2") {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v = 0;
      std::memcpy(&v, a->data.data() + 2 * i, 2);
      out[i] = half_to_float(v);
    }
  } else {
    fail("{}: array {} is {}; heed reads float32 and float16 weights", what_, name, a->dtype);
  }
  return t;
}

}  // namespace heed
