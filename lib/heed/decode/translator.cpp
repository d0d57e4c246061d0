#include "heed/decode/translator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <numeric>
#include <thread>

#include "heed/backend/precision_choice.h"
#include "heed/core/error.h"
#include "heed/core/threads.h"
#include "heed/data/length_batches.h"
#include "heed/decode/long_lines.h"
#include "heed/text/clean_text.h"
#include "heed/text/utf8.h"
#include "heed/text/word_pieces.h"

namespace heed {

struct Translator::Worker {
  // Worker 0 decodes with the caller's models; the others with models over their weights.
  std::vector<std::unique_ptr<Transformer>> own_models;
  BeamSearch search;
  Worker(Backend& be, const std::vector<Transformer*>& models, std::vector<std::unique_ptr<Transformer>> own,
         const BeamOptions& options)
      : own_models(std::move(own)), search(be, own_models.empty() ? models : pointers(own_models), options) {}
  static std::vector<Transformer*> pointers(const std::vector<std::unique_ptr<Transformer>>& models) {
    std::vector<Transformer*> out;
    for (const auto& m : models) out.push_back(m.get());
    return out;
  }
};

Translator::Translator(Backend& be, Transformer& model, const Vocabulary& source, const Vocabulary& target,
                       const TranslateOptions& options)
    : Translator(std::vector<Backend*>{&be}, model, source, target, options) {}

Translator::Translator(const std::vector<Backend*>& backends, Transformer& model, const Vocabulary& source,
                       const Vocabulary& target, const TranslateOptions& options)
    : Translator(backends, std::vector<Transformer*>{&model}, source, target, options) {}

Translator::Translator(const std::vector<Backend*>& backends, const std::vector<Transformer*>& models,
                       const Vocabulary& source, const Vocabulary& target, const TranslateOptions& options)
    : source_(source), target_(target), options_(options) {
  HEED_CHECK(!backends.empty(), "a translator needs at least one worker");
  HEED_CHECK(!models.empty(), "a translator needs at least one model");
  limit_ = models.front()->config().max_positions - 1;  // room for eos
  if (options_.max_input_pieces > 0) limit_ = std::min(limit_, options_.max_input_pieces);
  // One copy of the weights on the workers' device (they share one kind of backend), prepared
  // once for its matmuls.
  Backend& first = *backends.front();
  options_.precision = usable_precision(first, options_.precision, "translate");
  int64_t prepared_bytes = 0, released_bytes = 0;
  const ModelConfig& c = models.front()->config();
  output_table_bytes_ = output_table_bytes(c, options_.precision);
  for (Transformer* m : models) {
    m->parameters().place_on(first);
    if (m->parameters().prepared()) continue;
    // The f32 copies of the weights are dead once prepared: given back one by one.
    prepared_bytes += m->parameters().prepare(first, options_.precision, ParameterSet::Values::release, &released_bytes);
  }
  spdlog::log(options_.precision == Precision::f32 ? spdlog::level::debug : spdlog::level::info,
              "weights prepared for {} matmuls ({:.1f} MB{})", precision_name(options_.precision), prepared_bytes / 1e6,
              released_bytes > 0 ? fmt::format("; {:.1f} MB of f32 weights given back", released_bytes / 1e6) : "");
  for (size_t i = 0; i < backends.size(); ++i) {
    std::vector<std::unique_ptr<Transformer>> own;
    if (i > 0)
      for (Transformer* m : models) own.push_back(std::make_unique<Transformer>(*m, SharedWeights{}));
    workers_.push_back(std::make_unique<Worker>(*backends[i], models, std::move(own), options.beam));
  }
}

Translator::~Translator() = default;

void Translator::reserve(const std::vector<Sources>& batches) {
  // The candidates: the batch with the most sentences, the longest, and the one with most pieces.
  std::vector<std::pair<int64_t, int64_t>> shapes;
  std::pair<int64_t, int64_t> by_sentences, by_length, by_pieces;  // (sentences, source pieces)
  for (const Sources& batch : batches) {
    int64_t length = 0;
    for (const auto& s : batch) length = std::max(length, static_cast<int64_t>(s.size()));
    const int64_t n = static_cast<int64_t>(batch.size());
    if (n > by_sentences.first) by_sentences = {n, length};
    if (length > by_length.second) by_length = {n, length};
    if (n * length > by_pieces.first * by_pieces.second) by_pieces = {n, length};
  }
  const auto covered = [](const std::pair<int64_t, int64_t>& shape, const std::vector<std::pair<int64_t, int64_t>>& by) {
    return std::any_of(by.begin(), by.end(), [&](const auto& r) { return shape.first <= r.first && shape.second <= r.second; });
  };
  const std::vector<std::pair<int64_t, int64_t>> candidates = {by_sentences, by_length, by_pieces};
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& shape = candidates[i];
    std::vector<std::pair<int64_t, int64_t>> others = reserved_;
    for (size_t j = 0; j < candidates.size(); ++j)
      if (j != i && (candidates[j] != shape || j < i)) others.push_back(candidates[j]);
    if (shape.first > 0 && !covered(shape, others)) shapes.push_back(shape);
  }
  reserved_.insert(reserved_.end(), shapes.begin(), shapes.end());
  if (shapes.empty()) return;
  const size_t before = tensor_memory().in_use;
  // On each worker's own thread, as it will decode: oneDNN fits a primitive to the threads of
  // the thread that makes it.
  on_workers(workers_.size(), [&](size_t w) {
    for (const auto& [sentences, length] : shapes) workers_[w]->search.reserve(sentences, length);
  });
  const int64_t bytes = static_cast<int64_t>(tensor_memory().in_use) - static_cast<int64_t>(before);
  std::string listed;
  for (const auto& [sentences, length] : shapes) listed += fmt::format("{}{}×{}", listed.empty() ? "" : ", ", sentences, length);
  spdlog::log(stats_.workspace_bytes == 0 ? spdlog::level::info : spdlog::level::debug,
              "workspace: {:.0f} MB laid out for batches of sentences × source pieces {} on {} worker(s), before decoding them",
              static_cast<double>(bytes) / (1024.0 * 1024.0), listed, workers_.size());
  stats_.workspace_bytes += bytes;
}

void Translator::decode(const std::vector<Sources>& batches, std::vector<std::vector<std::vector<Hypothesis>>>& results) {
  reserve(batches);
  results.assign(batches.size(), {});
  if (workers_.size() == 1 || batches.size() == 1) {
    for (size_t i = 0; i < batches.size(); ++i) results[i] = workers_[0]->search.translate(batches[i]);
    return;
  }
  // Batches come sorted by length; the longest are taken first, so that no worker is left with
  // a long batch while the others idle at the end.
  std::atomic<size_t> taken{0};
  on_workers(workers_.size(), [&](size_t w) {
    try {
      for (size_t n = taken++; n < batches.size(); n = taken++) {
        const size_t i = batches.size() - 1 - n;
        results[i] = workers_[w]->search.translate(batches[i]);
      }
    } catch (...) {
      taken = batches.size();  // the others stop after their current batch
      throw;
    }
  });
}

void Translator::on_workers(size_t count, const std::function<void(size_t)>& job) {
  if (count <= 1) {  // on the calling thread, with its threads
    if (count == 1) job(0);
    return;
  }
  std::vector<std::exception_ptr> errors(count);
  const auto run = [&](size_t w) {
    try {
      if (options_.threads_per_worker > 0) set_threads(options_.threads_per_worker);  // OpenMP's setting is per thread
      job(w);
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < count; ++w) threads.emplace_back(run, w);
  const int caller_threads = current_threads();
  run(0);  // on this thread
  for (std::thread& t : threads) t.join();
  set_threads(caller_threads);
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

int64_t default_batch_sentences(int64_t beam, int64_t workers, int64_t output_table_bytes) {
  // Each step's product with the output table reads all of it: a table that outgrows the caches
  // (an OPUS-MT model's 58k pieces × 512 at f32) is read from memory, and more rows per read pay
  // for it; a small one (heed's own models, or int8 ones) gains nothing but memory from them.
  const int64_t scale = output_table_bytes > kLargeOutputTableBytes ? 2 : 1;
  if (beam <= 1 && workers <= 1) return 32 * scale;
  return std::clamp<int64_t>(64 * scale / std::max<int64_t>(beam, 1), 8, 16 * scale);
}

int64_t output_table_bytes(const ModelConfig& config, Precision precision) {
  return config.target_vocab * config.model_dim * (precision == Precision::int8 ? 1 : precision == Precision::bf16 ? 2 : 4);
}

int default_workers(int threads, int64_t output_table_bytes) {
  return output_table_bytes > kLargeOutputTableBytes ? 1 : std::max(threads, 1);
}

std::vector<TranslatedLine> Translator::translate(const std::vector<std::string>& lines, int64_t first_line) {
  // Each line becomes zero or more segments (one per sentence, and a long sentence several),
  // translated as sentences.
  struct Segment {
    size_t line;
    std::vector<int32_t> pieces;
    std::string sentence;  // the source sentence, when the segment is one whole
  };
  std::vector<Segment> segments;
  std::vector<TranslatedLine> out(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ++stats_.lines;
    const int64_t number = first_line + static_cast<int64_t>(i);
    if (const auto bad = find_invalid_utf8(lines[i])) {
      spdlog::warn("line {}: invalid UTF-8 at byte {}; writing an empty line", number, *bad + 1);
      ++stats_.invalid;
      continue;
    }
    std::string text = lines[i];
    if (const size_t removed = remove_control_characters(text))
      spdlog::warn("line {}: removed {} control character(s) (NUL and the like; tab is kept)", number, removed);
    if (is_blank(text)) {
      ++stats_.empty;
      continue;
    }
    const std::vector<std::string_view> sentences = options_.split_sentences
                                                        ? split_sentences(text, options_.sentence_language)
                                                        : std::vector<std::string_view>{text};
    stats_.split_lines += sentences.size() > 1;
    bool long_line = false;
    size_t truncated = 0, longest = 0;  // --long-lines truncate: said once a line, not once a sentence
    for (std::string_view sentence : sentences) {
      std::vector<int32_t> pieces = source_.encode(sentence);
      stats_.source_pieces += static_cast<int64_t>(pieces.size());
      stats_.source_words += count_words(sentence);
      if (static_cast<int64_t>(pieces.size()) <= limit_) {
        if (!pieces.empty()) segments.push_back({i, std::move(pieces), std::string(sentence)});
        continue;
      }
      long_line = true;
      if (options_.long_lines == LongLines::truncate) {
        ++truncated;
        longest = std::max(longest, pieces.size());
        pieces.resize(static_cast<size_t>(limit_));
        segments.push_back({i, std::move(pieces), {}});
      } else {
        std::vector<std::vector<int32_t>> parts = split_long_line(sentence, source_, limit_, options_.sentence_language, options_.long_sentence_part);
        spdlog::debug("line {}: a sentence of {} pieces, more than the {} the model takes; translating it in {} parts",
                      number, pieces.size(), limit_, parts.size());
        for (std::vector<int32_t>& part : parts) segments.push_back({i, std::move(part), {}});
      }
    }
    stats_.long_lines += long_line;
    if (truncated > 0)
      spdlog::warn("line {}: {} sentence(s) longer than the {} pieces the model takes (the longest {}); translating the "
                   "first {} of each (--long-lines truncate)",
                   number, truncated, limit_, longest, limit_);
  }

  std::vector<int32_t> order(segments.size());
  std::vector<int64_t> lengths(segments.size());
  std::iota(order.begin(), order.end(), 0);
  for (size_t s = 0; s < segments.size(); ++s) lengths[s] = static_cast<int64_t>(segments[s].pieces.size()) + 1;
  const BatchPlan plan =
      batches_by_length(order, lengths, {.sentences = options_.batch_sentences > 0 ? options_.batch_sentences
                                                                                   : default_batch_sentences(options_.beam.beam, static_cast<int64_t>(workers_.size()), output_table_bytes_),
                                         .tokens = options_.batch_tokens});
  std::vector<Sources> batches;
  for (const std::vector<int32_t>& batch : plan) {
    Sources& sources = batches.emplace_back();
    for (int32_t s : batch) sources.push_back(std::move(segments[static_cast<size_t>(s)].pieces));
  }
  std::vector<std::vector<std::vector<Hypothesis>>> batch_results;
  decode(batches, batch_results);
  std::vector<std::vector<Hypothesis>> results(segments.size());
  for (size_t b = 0; b < plan.size(); ++b)
    for (size_t k = 0; k < plan[b].size(); ++k) results[static_cast<size_t>(plan[b][k])] = std::move(batch_results[b][k]);

  // Back to input order; a line's sentences and parts are joined with a space.
  std::vector<size_t> segments_of_line(lines.size(), 0), whole_sentences_of_line(lines.size(), 0);
  for (const Segment& segment : segments) {
    ++segments_of_line[segment.line];
    whole_sentences_of_line[segment.line] += !segment.sentence.empty();
  }
  for (size_t s = 0; s < segments.size(); ++s) {
    TranslatedLine& line = out[segments[s].line];
    const auto& hypotheses = results[s];
    if (line.texts.empty()) {
      line.texts.resize(hypotheses.size());
      line.scores.resize(hypotheses.size(), 0.0);
    }
    const bool by_sentence = segments_of_line[segments[s].line] > 1 &&
                             whole_sentences_of_line[segments[s].line] == segments_of_line[segments[s].line];
    if (by_sentence) {
      line.source_sentences.push_back(std::move(segments[s].sentence));
      line.sentence_texts.resize(line.texts.size());
    }
    for (size_t h = 0; h < hypotheses.size() && h < line.texts.size(); ++h) {
      const std::string text = target_.decode(hypotheses[h].pieces);
      line.texts[h] = line.texts[h].empty() ? text : line.texts[h] + " " + text;
      line.scores[h] += hypotheses[h].score;
      if (by_sentence) line.sentence_texts[h].push_back(text);
      if (h == 0) stats_.target_pieces += static_cast<int64_t>(hypotheses[h].pieces.size()) + 1;
    }
    if (by_sentence)  // a sentence with fewer hypotheses than the line's first still has its place in each
      for (size_t h = hypotheses.size(); h < line.texts.size(); ++h) line.sentence_texts[h].emplace_back();
  }
  for (TranslatedLine& line : out) {
    if (line.texts.empty()) {
      line.texts.emplace_back();
      line.scores.push_back(0.0);
    }
  }
  return out;
}

}  // namespace heed
