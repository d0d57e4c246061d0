#include "heed/train/checkpoint.h"

#include <fmt/format.h>

#include <cstring>
#include <sstream>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"

namespace heed {
namespace {

constexpr std::string_view kMagic = "HEEDCKPT";
// 2: the number of processes that trained (data-parallel training); version 1 files had one.
constexpr uint32_t kCheckpointVersion = 2;

std::string_view tensor_bytes(const Tensor& t) { return {reinterpret_cast<const char*>(t.data<float>()), t.bytes()}; }

}  // namespace

void save_checkpoint(const std::string& path, const Transformer& model, const ModelExtras& extras, Adam& adam,
                     const TrainingProgress& p) {
  ContainerWriter w(kMagic, kCheckpointVersion);
  w.put_bytes64(serialize_model(model, extras));
  w.put(p.updates);
  w.put(p.epoch);
  w.put(p.next_batch);
  w.put(p.elapsed_seconds);
  w.put(p.validations);
  w.put(p.validations_without_improvement);
  w.put(p.best_metric);
  w.put(p.best_cross_entropy);
  w.put(static_cast<uint8_t>(p.has_best));
  w.put(p.processes);
  w.put_bytes64(tensor_bytes(adam.first_moment_on_host()));
  w.put_bytes64(tensor_bytes(adam.second_moment_on_host()));
  write_file_atomically(path, w.finish());
}

std::string checkpoint_training_options(const std::string& path) {
  const std::string bytes = read_file(path);
  ContainerReader r(bytes, path, kMagic, "heed checkpoint", kCheckpointVersion);
  return model_metadata(r.bytes64("model"), path + "'s model");
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  const std::string bytes = read_file(path);
  ContainerReader r(bytes, path, kMagic, "heed checkpoint", kCheckpointVersion);
  LoadedCheckpoint c;
  c.model = parse_model(r.bytes64("model"), path + "'s model");
  TrainingProgress& p = c.progress;
  p.updates = r.get<int64_t>("updates");
  p.epoch = r.get<int64_t>("epoch");
  p.next_batch = r.get<int64_t>("next batch");
  p.elapsed_seconds = r.get<double>("elapsed seconds");
  p.validations = r.get<int64_t>("validations");
  p.validations_without_improvement = r.get<int64_t>("validations without improvement");
  p.best_metric = r.get<double>("best metric");
  p.best_cross_entropy = r.get<double>("best cross-entropy");
  p.has_best = r.get<uint8_t>("has best") != 0;
  p.processes = r.version() >= 2 ? r.get<int64_t>("processes") : 1;
  const Shape shape = c.model.model->parameters().values().shape();
  for (Tensor* moment : {&c.first_moment, &c.second_moment}) {
    const std::string_view data = r.bytes64("Adam moment");
    HEED_CHECK(data.size() == static_cast<size_t>(shape.numel()) * sizeof(float),
               "{} is malformed: an Adam moment holds {} bytes, the model has {} parameters", path, data.size(),
               shape.numel());
    *moment = Tensor::empty(shape);
    std::memcpy(moment->raw(), data.data(), data.size());
  }
  r.expect_end();
  return c;
}

}  // namespace heed
