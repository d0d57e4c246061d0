#include "heed/core/safetensors.h"

#include <cstring>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/half.h"

namespace heed {
namespace {

int64_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

}  // namespace

SafeTensors SafeTensors::read(const std::string& path) { return parse(read_file(path), path); }

SafeTensors SafeTensors::parse(std::string bytes, const std::string& what) {
  SafeTensors st;
  st.what_ = what;
  HEED_CHECK(bytes.size() >= 8, "{}: not a safetensors file ({} bytes, shorter than its header's length)", what, bytes.size());
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = header_length << 8 | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  HEED_CHECK(header_length <= bytes.size() - 8,
             "{}: not a safetensors file, or cut short: its header says {} bytes, the file has {} after it", what,
             header_length, bytes.size() - 8);
  const Json header = Json::parse(std::string_view(bytes).substr(8, header_length), what + " (header)");
  st.data_start_ = 8 + header_length;
  const size_t data_size = bytes.size() - st.data_start_;
  for (const auto& [name, info] : header.object(what + ": the header")) {
    if (name == "__metadata__") {
      st.metadata_ = info;
      continue;
    }
    const std::string where = what + ": tensor " + name;
    Entry e;
    e.name = name;
    const Json* dtype = info.find("dtype");
    const Json* shape = info.find("shape");
    const Json* offsets = info.find("data_offsets");
    HEED_CHECK(dtype && shape && offsets, "{}: dtype, shape and data_offsets are needed", where);
    e.dtype = dtype->string(where + " dtype");
    HEED_CHECK(dtype_bytes(e.dtype) > 0, "{}: unknown dtype {}", where, e.dtype);
    int64_t count = 1;
    for (const Json& d : shape->array(where + " shape")) {
      const int64_t dim = d.integer(where + " shape");
      HEED_CHECK(dim >= 0 && (dim == 0 || count <= (int64_t{1} << 40) / std::max<int64_t>(dim, 1)),
                 "{}: shape dimension {} out of range", where, dim);
      e.shape.push_back(dim);
      count *= dim;
    }
    const std::vector<Json>& range = offsets->array(where + " data_offsets");
    HEED_CHECK(range.size() == 2, "{}: data_offsets must be [begin, end]", where);
    const int64_t begin = range[0].integer(where + " data_offsets"), end = range[1].integer(where + " data_offsets");
    HEED_CHECK(begin >= 0 && begin <= end && static_cast<uint64_t>(end) <= data_size,
               "{}: bytes {} to {} lie outside the file's {} bytes of data (cut short?)", where, begin, end, data_size);
    HEED_CHECK(end - begin == count * dtype_bytes(e.dtype), "{}: {} bytes for a {} tensor of {} values", where,
               end - begin, e.dtype, count);
    e.begin = static_cast<size_t>(begin);
    e.end = static_cast<size_t>(end);
    st.entries_.push_back(std::move(e));
  }
  st.bytes_ = std::move(bytes);
  return st;
}

const SafeTensors::Entry* SafeTensors::find(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Tensor SafeTensors::f32(const std::string& name) const {
  const Entry* e = find(name);
  HEED_CHECK(e != nullptr, "{}: no tensor {}", what_, name);
  Shape shape;
  for (int64_t d : e->shape) shape.push_back(d);
  Tensor t = Tensor::empty(shape, DType::f32);
  const char* data = bytes_.data() + data_start_ + e->begin;
  float* out = t.f32();
  const int64_t n = t.numel();
  if (e->dtype == "F32") {
    std::memcpy(out, data, static_cast<size_t>(n) * 4);
  } else if (e->dtype == "F16" || e->dtype == "BF16") {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v = 0;
      std::memcpy(&v, data + 2 * i, 2);
      out[i] = e->dtype == "F16" ? half_to_float(v) : std::bit_cast<float>(static_cast<uint32_t>(v) << 16);
    }
  } else {
    fail("{}: tensor {} is {}; heed reads F32, F16 and BF16 weights", what_, name, e->dtype);
  }
  return t;
}

}  // namespace heed
