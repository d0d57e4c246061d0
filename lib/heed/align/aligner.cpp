#include "heed/align/aligner.h"

#include <algorithm>

#include "heed/core/error.h"

namespace heed {

Aligner::Aligner(Backend& be, Transformer& model, const Vocabulary& source, const Vocabulary& target, AlignOptions options)
    : be_(be), model_(model), source_(source), target_(target), options_(std::move(options)) {
  const ModelConfig& c = model_.config();
  if (options_.head == kModelsAlignmentHead) {
    if (options_.layers.empty() && c.has_alignment_head()) {
      options_.layers = {c.alignment_layer};
      options_.head = c.alignment_head;
    } else {
      options_.head = -1;
    }
  }
  if (!options_.step) options_.step = c.alignment_step;
  if (options_.layers.empty())
    for (int32_t l = 0; l < c.decoder_layers; ++l) options_.layers.push_back(l);
  for (int32_t l : options_.layers)
    HEED_CHECK(l >= 0 && l < c.decoder_layers, "alignment layer {} does not exist: the model has decoder layers 0 to {}", l,
               c.decoder_layers - 1);
  HEED_CHECK(options_.head >= -1 && options_.head < c.heads, "alignment head {} does not exist: the model has heads 0 to {}",
             options_.head, c.heads - 1);
  model_.parameters().place_on(be_);
}

PairAlignment Aligner::align(std::string_view source_text, std::string_view target_text) {
  // Every word is at least one piece: a side with as many words as the model has positions is too
  // long, known without encoding it (a line of megabytes would take long and much memory).
  const int64_t most_pieces = model_.config().max_positions - 1;
  if (count_words(source_text) > most_pieces || count_words(target_text) > most_pieces) {
    PairAlignment out;
    out.too_long = true;
    return out;
  }
  const WordPieces source = encode_words(source_, source_text);
  const WordPieces target = encode_words(target_, target_text);
  PairAlignment out;
  out.source_words = source.words;
  out.target_words = target.words;
  out.source = source.texts;
  out.target = target.texts;
  const ModelConfig& c = model_.config();
  const auto s = static_cast<int64_t>(source.pieces.size()), t = static_cast<int64_t>(target.pieces.size());
  if (s == 0 || t == 0) return out;
  if (s + 1 > c.max_positions || t + 1 > c.max_positions) {
    out.too_long = true;
    return out;
  }

  // source: pieces + eos; target input: bos + pieces (its outputs are pieces + eos).
  Tensor source_ids = Tensor::empty(Shape{1, s + 1}, DType::i32);
  std::copy(source.pieces.begin(), source.pieces.end(), source_ids.data<int32_t>());
  source_ids.data<int32_t>()[s] = c.eos_id;
  Tensor target_in = Tensor::empty(Shape{1, t + 1}, DType::i32);
  target_in.data<int32_t>()[0] = c.bos_id;
  std::copy(target.pieces.begin(), target.pieces.end(), target_in.data<int32_t>() + 1);
  model_.forward_attention(be_, source_ids, target_in);

  // Target piece k is predicted at decoder position k and is the input at position k + 1.
  AttentionMatrix pieces{static_cast<int32_t>(t), static_cast<int32_t>(s), std::vector<float>(static_cast<size_t>(t * s), 0.0f)};
  const int64_t heads = c.heads;
  const int64_t first_head = options_.head < 0 ? 0 : options_.head, last_head = options_.head < 0 ? heads : options_.head + 1;
  const float weight = 1.0f / static_cast<float>(options_.layers.size() * static_cast<size_t>(last_head - first_head));
  const int64_t offset = *options_.step == AlignmentStep::shift ? 1 : 0;
  for (int32_t layer : options_.layers) {
    const Tensor probs = be_.to_host(model_.cross_attention(layer), probs_staging_);  // [1, H, t + 1, s + 1]
    const float* p = probs.f32();
    for (int64_t h = first_head; h < last_head; ++h)
      for (int64_t k = 0; k < t; ++k) {
        const int64_t row = std::min(k + offset, t);  // "shift" of the last piece: the eos step
        const float* r = p + (h * (t + 1) + row) * (s + 1);
        for (int64_t j = 0; j < s; ++j) pieces.at(static_cast<int32_t>(k), static_cast<int32_t>(j)) += weight * r[j];
      }
  }
  out.words = words_from_pieces(pieces, source, target);
  out.links = extract_links(out.words, options_.symmetrization, options_.threshold);
  return out;
}

}  // namespace heed
