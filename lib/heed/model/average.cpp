#include "heed/model/average.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>

#include "heed/core/error.h"

namespace heed {

namespace {

// "key = value" lines of a configuration's text, by key.
std::map<std::string, std::string> config_items(const std::string& text) {
  std::map<std::string, std::string> items;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t eq = line.find(" = ");
    if (eq != std::string::npos) items[line.substr(0, eq)] = line.substr(eq + 3);
    start = end + 1;
  }
  return items;
}

// The keys whose values differ, e.g. "model-dim (256 in a.heed, 512 in b.heed)": the reason two
// models cannot be averaged, without printing both whole configurations.
std::string config_differences(const std::string& a_text, const std::string& a_name, const std::string& b_text,
                               const std::string& b_name) {
  const auto a = config_items(a_text);
  const auto b = config_items(b_text);
  std::set<std::string> keys;
  for (const auto& item : a) keys.insert(item.first);
  for (const auto& item : b) keys.insert(item.first);
  std::string differences;
  const auto value = [](const std::map<std::string, std::string>& items, const std::string& key) {
    const auto found = items.find(key);
    return found == items.end() ? std::string("not set") : found->second;
  };
  for (const std::string& key : keys) {
    const std::string va = value(a, key), vb = value(b, key);
    if (va == vb) continue;
    differences += fmt::format("{}{} ({} in {}, {} in {})", differences.empty() ? "" : "; ", key, va, a_name, vb, b_name);
  }
  return differences;
}

}  // namespace

LoadedModel average_models(const std::vector<LoadedModel>& models, const std::vector<std::string>& names) {
  HEED_CHECK(!models.empty() && models.size() == names.size(), "averaging needs at least one model");
  const LoadedModel& first = models.front();
  const std::string config = first.model->config().to_text();
  for (size_t i = 1; i < models.size(); ++i) {
    const std::string other = models[i].model->config().to_text();
    HEED_CHECK(other == config, "{} cannot be averaged with {}: their configurations differ in {}", names[i], names[0],
               config_differences(config, names[0], other, names[i]));
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
