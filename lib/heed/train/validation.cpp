#include "heed/train/validation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "heed/data/batcher.h"
#include "heed/eval/bleu.h"

namespace heed {

Validation validate(Backend& be, Transformer& model, const Corpus& valid, const std::vector<std::string>& references,
                    const Vocabulary& target, const ValidationOptions& options) {
  Validation v;
  const ModelConfig& mc = model.config();
  LossSums total;
  for (const auto& indices : plan_in_order(valid.pairs, options.batch_tokens)) {
    const BatchTensors batch = make_batch(valid.pairs, indices, mc.batch_layout());
    const LossSums sums = model.forward_loss(be, batch.batch, 0.0f, RunMode{});
    total.nll += sums.nll;
    total.tokens += sums.tokens;
  }
  v.cross_entropy = total.tokens ? total.nll / static_cast<double>(total.tokens) : 0.0;
  v.perplexity = std::exp(v.cross_entropy);

  // BLEU of beam-search translations of the first N pairs, decoded in length-sorted batches.
  const size_t count = options.bleu_sentences > 0
                           ? std::min(valid.pairs.size(), static_cast<size_t>(options.bleu_sentences))
                           : valid.pairs.size();
  std::vector<int32_t> order(count);
  std::vector<int64_t> lengths(count);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = 0; i < count; ++i) lengths[i] = static_cast<int64_t>(valid.pairs[i].source.size()) + 1;
  std::vector<std::string> hypotheses(count), counted_references(references.begin(), references.begin() + count);
  BeamSearch search(be, model, options.beam);
  for (const std::vector<int32_t>& batch : batches_by_length(order, lengths, {.sentences = options.decode_batch_sentences})) {
    std::vector<std::vector<int32_t>> sources;
    for (int32_t i : batch) sources.push_back(valid.pairs[i].source);
    const auto outputs = search.translate(sources);
    for (size_t k = 0; k < batch.size(); ++k) hypotheses[batch[k]] = target.decode(outputs[k].at(0).pieces);
  }
  if (count > 0) v.bleu = corpus_bleu(hypotheses, counted_references).score;
  return v;
}

}  // namespace heed
