#include "heed/model/average.h"

#include <fmt/format.h>

#include "heed/core/error.h"

namespace heed {

LoadedModel average_models(const std::vector<LoadedModel>& models, const std::vector<std::string>& names) {
  HEED_CHECK(!models.empty() && models.size() == names.size(), "averaging needs at least one model");
  const LoadedModel& first = models.front();
  const std::string config = first.model->config().to_text();
  for (size_t i = 1; i < models.size(); ++i) {
    HEED_CHECK(models[i].model->config().to_text() == config,
               "{} cannot be averaged with {}: their configurations differ\n{}: {}\n{}: {}", names[i], names[0],
               names[0], config, names[i], models[i].model->config().to_text());
    const auto& a = first.extras.vocabularies;
    const auto& b = models[i].extras.vocabularies;
    bool same = a.size() == b.size();
    for (size_t v = 0; same && v < a.size(); ++v) same = a[v].name == b[v].name && a[v].bytes == b[v].bytes;
    HEED_CHECK(same, "{} cannot be averaged with {}: their vocabularies differ", names[i], names[0]);
  }

  const int64_t n = first.model->parameters().values().numel();
  std::vector<double> sum(static_cast<size_t>(n), 0.0);
  for (const LoadedModel& m : models) {
    const float* v = m.model->parameters().values().f32();
    for (int64_t j = 0; j < n; ++j) sum[static_cast<size_t>(j)] += v[j];
  }
  LoadedModel out;
  out.model = std::make_unique<Transformer>(first.model->config());
  float* mean = out.model->parameters().values().f32();
  const double count = static_cast<double>(models.size());
  for (int64_t j = 0; j < n; ++j) mean[j] = static_cast<float>(sum[static_cast<size_t>(j)] / count);

  out.extras = first.extras;
  std::string sources;
  for (const std::string& name : names) sources += (sources.empty() ? "" : " ") + name;
  out.extras.metadata += fmt::format("{}averaged = \"{}\"\n", out.extras.metadata.empty() || out.extras.metadata.back() == '\n' ? "" : "\n", sources);
  return out;
}

}  // namespace heed
