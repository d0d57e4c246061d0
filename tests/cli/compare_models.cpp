// Prints how far two heed models' parameters are apart: max |a − b| / max(1e-12, max |a|) over
// every parameter (0 when identical), for the MPI tests' "N processes train the one model".
// Usage: compare_models A.heed B.heed

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "heed/core/error.h"
#include "heed/model/model_file.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s A.heed B.heed\n", argv[0]);
    return 2;
  }
  try {
    const heed::LoadedModel a = heed::load_model(argv[1]), b = heed::load_model(argv[2]);
    const heed::Tensor& x = a.model->parameters().values();
    const heed::Tensor& y = b.model->parameters().values();
    HEED_CHECK(x.numel() == y.numel(), "{} and {} hold different models", argv[1], argv[2]);
    double diff = 0.0, scale = 1e-12;
    for (int64_t i = 0; i < x.numel(); ++i) {
      diff = std::max(diff, std::abs(static_cast<double>(x.f32()[i]) - y.f32()[i]));
      scale = std::max(scale, std::abs(static_cast<double>(x.f32()[i])));
    }
    std::printf("%.3g\n", diff / scale);
    return 0;
  } catch (const heed::Error& e) {
    std::fprintf(stderr, "compare_models: %s\n", e.what());
    return 1;
  }
}
