#include "support/greedy_decode.h"

#include <algorithm>

#include "heed/data/batcher.h"

namespace heed::test {

std::vector<std::vector<int32_t>> greedy_decode(Backend& be, Transformer& model,
                                                const std::vector<std::vector<int32_t>>& sources,
                                                const LengthLimit& length) {
  const ModelConfig& config = model.config();
  const int64_t batch = static_cast<int64_t>(sources.size());
  std::vector<std::vector<int32_t>> outputs(batch);
  if (batch == 0) return outputs;
  std::vector<int64_t> limits(batch);
  int64_t longest = 1;
  for (int64_t b = 0; b < batch; ++b) {
    limits[b] = std::min(length.limit(static_cast<int64_t>(sources[b].size())), config.max_positions - 1);
    longest = std::max(longest, limits[b]);
  }
  IncrementalDecoder decoder(model);
  decoder.start(be, source_ids(sources, config.batch_layout()), std::min((longest + 1 + 7) / 8 * 8, config.max_positions));
  // Tokens are chosen on the host (the model moves them to the backend's device).
  Tensor tokens = Tensor::empty(Shape{batch}, DType::i32);
  std::fill(tokens.data<int32_t>(), tokens.data<int32_t>() + batch, config.bos_id);
  Tensor staging;
  std::vector<bool> done(batch, false);
  int64_t remaining = batch;
  const int64_t vocab = config.target_vocab;
  for (int64_t step = 0; step <= longest && remaining > 0; ++step) {
    const Tensor logits = be.to_host(decoder.step(be, tokens), staging);
    for (int64_t b = 0; b < batch; ++b) {
      if (done[b]) {
        tokens.data<int32_t>()[b] = config.pad_id;
        continue;
      }
      const float* row = logits.f32() + b * vocab;
      int32_t best = -1;
      for (int32_t v = 0; v < static_cast<int32_t>(vocab); ++v) {
        if (v == config.pad_id || v == config.bos_id) continue;  // never generated (as in beam search)
        if (v == config.eos_id && step == 0 && limits[b] > 0) continue;  // nor an empty translation
        if (best < 0 || row[v] > row[best]) best = v;
      }
      if (best == config.eos_id || static_cast<int64_t>(outputs[b].size()) >= limits[b]) {
        done[b] = true;
        --remaining;
      } else {
        outputs[b].push_back(best);
      }
      tokens.data<int32_t>()[b] = best;
    }
  }
  return outputs;
}

}  // namespace heed::test
