#include "heed/backend/prepared_weight.h"

#include "heed/core/error.h"

namespace heed {

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::f32: return "f32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "?";
}

Precision parse_precision(std::string_view text, std::string_view what) {
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8})
    if (text == precision_name(p)) return p;
  fail("{}: unknown precision '{}' (f32, bf16 or int8)", what, text);
}

}  // namespace heed
