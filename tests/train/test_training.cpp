// Training end to end on small data: loss falls, resume is exact, and bad input is reported
// before any training with the file and line.

#include <doctest/doctest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <limits>

#include "heed/core/error.h"
#include "heed/core/threads.h"
#include "heed/data/corpus.h"
#include "heed/model/model_file.h"
#include "heed/train/stop_signal.h"
#include "support/simulated_device.h"
#include "train_support.h"

using namespace heed;
using namespace heed::test;

namespace {

TrainConfig slice_config(const TempDir& dir, const std::string& vocab) {
  TrainConfig c;
  c.train_source = slice_file("train.en");
  c.train_target = slice_file("train.de");
  c.vocabulary = vocab;
  c.output_dir = dir.file("run");
  c.batch_tokens = 512;
  c.optimizer.learning_rate = 2e-3f;
  c.optimizer.warmup = 10;
  c.max_epochs = 0;
  c.progress_seconds = 1000;
  return c;
}

// The slice's 50 validation pairs, validated every `every` updates, BLEU on the first `sentences`.
void validate_on_slice(TrainConfig& c, int64_t every, int64_t sentences) {
  c.valid_source = slice_file("valid.en");
  c.valid_target = slice_file("valid.de");
  c.validate_every = every;
  c.valid_bleu_sentences = sentences;
}

std::string slice_vocabulary(const TempDir& dir) {
  const std::string path = dir.file("slice.model");
  train_vocabulary({slice_file("train.en"), slice_file("train.de")}, 600, path);
  return path;
}

}  // namespace

TEST_CASE("loss falls when training on the 200-pair Multi30k slice") {
  TempDir dir;
  TrainConfig c = slice_config(dir, slice_vocabulary(dir));
  validate_on_slice(c, 20, 10);
  c.max_updates = 40;
  const TrainSummary s = train(c, small_model());
  CHECK(s.updates == 40);
  CHECK(s.last_loss < 0.8 * s.first_loss);
  for (const char* file : {kBestModelFile, kLastModelFile, kCheckpointFile})
    CHECK(std::filesystem::exists(dir.path / "run" / file));
  const LoadedModel best = load_model((dir.path / "run" / kBestModelFile).string());
  CHECK(best.extras.metadata.find("decoder") == std::string::npos);  // metadata is the caller's config text
  // and how finely the vocabulary cut the training sources, for translate's check of its input
  const auto cut = model_source_pieces_per_word(best.extras, "best.heed");
  REQUIRE(cut.has_value());
  CHECK(*cut > 1.0);
  CHECK(*cut < 4.0);
  CHECK(model_source_pieces_per_sentence(best.extras, "best.heed").value_or(0.0) > 5.0);
}

TEST_CASE("training N+M updates equals N updates, a stop, a resume and M more (bit-exact on one thread)") {
  TempDir dir;
  const std::string vocab = slice_vocabulary(dir);
  const int before = current_threads();
  set_threads(1);
  TrainConfig straight = slice_config(dir, vocab);
  straight.output_dir = dir.file("straight");
  straight.max_updates = 14;  // crosses an epoch boundary: the slice has ~9 batches
  train(straight, small_model());

  TrainConfig first = slice_config(dir, vocab);
  first.output_dir = dir.file("resumed");
  first.max_updates = 6;
  train(first, small_model());
  TrainConfig second = first;
  second.resume = true;
  second.max_updates = 14;
  train(second, small_model());
  set_threads(before);

  const LoadedModel a = load_model(dir.file("straight/last.heed"));
  const LoadedModel b = load_model(dir.file("resumed/last.heed"));
  const Tensor& va = a.model->parameters().values();
  const Tensor& vb = b.model->parameters().values();
  REQUIRE(va.bytes() == vb.bytes());
  CHECK(std::memcmp(va.raw(), vb.raw(), va.bytes()) == 0);
}

TEST_CASE("training on a device, stopped and resumed there, equals training on the host (bit-exact on one thread)") {
  TempDir dir;
  const std::string vocab = slice_vocabulary(dir);
  const int before = current_threads();
  set_threads(1);
  TrainConfig host = slice_config(dir, vocab);
  validate_on_slice(host, 5, 5);
  host.keep_last = 1;
  host.output_dir = dir.file("host");
  host.max_updates = 12;
  train(host, small_model());

  // On the simulated device every tensor the host touched outside the backend would throw.
  TrainConfig device = host;
  device.output_dir = dir.file("device");
  device.max_updates = 10;  // stops at a validation, as the host run passes one there (best.heed depends on them)
  train(device, small_model(), std::make_unique<SimulatedDeviceBackend>());
  device.resume = true;
  device.max_updates = 12;
  train(device, small_model(), std::make_unique<SimulatedDeviceBackend>());
  set_threads(before);

  for (const std::string file : {kLastModelFile, kBestModelFile, "update-12.heed"}) {
    CAPTURE(file);
    const LoadedModel a = load_model(dir.file("host/") + file);
    const LoadedModel b = load_model(dir.file("device/") + file);
    const Tensor& va = a.model->parameters().values();
    const Tensor& vb = b.model->parameters().values();
    REQUIRE(va.bytes() == vb.bytes());
    CHECK(std::memcmp(va.raw(), vb.raw(), va.bytes()) == 0);
  }
}

TEST_CASE("--keep-last removes only the kept models this training wrote") {
  TempDir dir;
  TrainConfig c = slice_config(dir, slice_vocabulary(dir));
  validate_on_slice(c, 2, 2);
  c.keep_last = 2;
  c.max_updates = 2;
  train(c, small_model());
  const auto run = dir.path / "run";
  CHECK(std::filesystem::exists(run / "update-2.heed"));
  // A stray with a higher number (a user's copy, another run's) sorts above this run's models.
  write_text((run / "update-999.heed").string(), "a user's file");
  TrainConfig resumed = c;
  resumed.resume = true;
  resumed.max_updates = 6;
  train(resumed, small_model());
  CHECK(std::filesystem::exists(run / "update-999.heed"));
  CHECK(std::filesystem::exists(run / "update-6.heed"));
  CHECK(std::filesystem::exists(run / "update-4.heed"));
  CHECK_FALSE(std::filesystem::exists(run / "update-2.heed"));

  // A new training in the same directory is refused: it would write over this one.
  CHECK_THROWS_WITH_AS(train(c, small_model()), doctest::Contains("holds another training"), Error);
  TrainConfig over = c;
  over.overwrite = true;
  train(over, small_model());
  CHECK(std::filesystem::exists(run / "update-2.heed"));
  CHECK_FALSE(std::filesystem::exists(run / "update-6.heed"));
}

TEST_CASE("--resume refuses training data that changed since the checkpoint") {
  TempDir dir;
  TrainConfig c = slice_config(dir, slice_vocabulary(dir));
  const std::string source = read_file(c.train_source), target = read_file(c.train_target);
  c.train_source = dir.file("train.en");
  c.train_target = dir.file("train.de");
  write_text(c.train_source, source);
  write_text(c.train_target, target);
  c.max_updates = 2;
  train(c, small_model());
  // The corpus halved: the same first lines, but not the data the schedule and order were made for.
  const auto halved = [](const std::string& text) {
    size_t end = 0;
    for (int line = 0; line < 100; ++line) end = text.find('\n', end) + 1;  // the slice's first 100 of 200 lines
    return text.substr(0, end);
  };
  write_text(c.train_source, halved(source));
  write_text(c.train_target, halved(target));
  TrainConfig resumed = c;
  resumed.resume = true;
  resumed.max_updates = 3;
  CHECK_THROWS_WITH_AS(train(resumed, small_model()), doctest::Contains("not the text the checkpoint was trained on"), Error);
  write_text(c.train_source, source);
  write_text(c.train_target, target);
  CHECK(train(resumed, small_model()).updates == 3);
}

TEST_CASE("--init fine-tunes a model: its weights, architecture and vocabulary, this run's dropout") {
  TempDir dir;
  TrainConfig base = slice_config(dir, slice_vocabulary(dir));
  base.output_dir = dir.file("base");
  base.max_updates = 20;
  const TrainSummary trained = train(base, small_model());
  const LoadedModel start = load_model(dir.file("base/last.heed"));

  // A step of ~1e-12 per weight: the fine-tuned model is the starting one, but for its dropout.
  TrainConfig tune = slice_config(dir, "");
  tune.init_model = dir.file("base/last.heed");
  tune.output_dir = dir.file("tuned");
  tune.optimizer.learning_rate = 1e-11f;
  tune.max_updates = 1;
  ModelConfig other = small_model();
  other.model_dim = 32;  // the model's architecture wins over the caller's
  other.dropout = 0.0f;
  const TrainSummary tuned = train(tune, other);
  CHECK(tuned.first_loss < 0.9 * trained.first_loss);  // it starts where the base model ended, not from scratch

  const LoadedModel out = load_model(dir.file("tuned/last.heed"));
  CHECK(out.model->config().model_dim == start.model->config().model_dim);
  CHECK(out.model->config().dropout == 0.0f);
  CHECK(start.model->config().dropout == doctest::Approx(0.1));
  REQUIRE(out.extras.vocabularies.size() == start.extras.vocabularies.size());
  CHECK(out.extras.vocabularies[0].bytes == start.extras.vocabularies[0].bytes);
  const Tensor& a = start.model->parameters().values();
  const Tensor& b = out.model->parameters().values();
  REQUIRE(a.numel() == b.numel());
  float largest_change = 0.0f;
  for (int64_t i = 0; i < a.numel(); ++i) largest_change = std::max(largest_change, std::abs(a.f32()[i] - b.f32()[i]));
  CHECK(largest_change < 1e-6f);

  TrainConfig both = tune;
  both.vocabulary = slice_vocabulary(dir);
  both.output_dir = dir.file("both");
  CHECK_THROWS_WITH_AS(train(both, small_model()), doctest::Contains("the model brings its own vocabulary"), Error);
  // A diverged model is refused, not fine-tuned into a NaN best.heed.
  LoadedModel broken = load_model(dir.file("base/last.heed"));
  broken.model->parameters().values().f32()[7] = std::numeric_limits<float>::quiet_NaN();
  save_model(dir.file("nan.heed"), *broken.model, broken.extras);
  TrainConfig diverged = tune;
  diverged.init_model = dir.file("nan.heed");
  diverged.output_dir = dir.file("nan");
  CHECK_THROWS_WITH_AS(train(diverged, small_model()), doctest::Contains("1 of its"), Error);
  TrainConfig absent = tune;
  absent.init_model = dir.file("absent.heed");
  absent.output_dir = dir.file("absent");
  CHECK_THROWS_WITH_AS(train(absent, small_model()), doctest::Contains("absent.heed"), Error);
}

TEST_CASE("--init with --guided-alignment starts guiding a head of a model trained without one") {
  TempDir dir;
  TrainConfig base = slice_config(dir, slice_vocabulary(dir));
  base.output_dir = dir.file("base");
  base.max_updates = 2;
  train(base, small_model());
  REQUIRE_FALSE(load_model(dir.file("base/last.heed")).model->config().has_alignment_head());

  std::string links;
  for (size_t i = 0; i < read_lines(base.train_source).size(); ++i) links += "0-0\n";
  write_text(dir.file("train.links"), links);
  TrainConfig tune = slice_config(dir, "");
  tune.init_model = dir.file("base/last.heed");
  tune.output_dir = dir.file("guided");
  tune.guided_alignment = dir.file("train.links");
  tune.max_updates = 2;
  tune.alignment_layer = 0;
  tune.alignment_head = 1;
  tune.alignment_step = AlignmentStep::shift;
  const ModelConfig requested = small_model();
  train(tune, requested);
  const ModelConfig out = load_model(dir.file("guided/last.heed")).model->config();
  CHECK(out.alignment_layer == 0);
  CHECK(out.alignment_head == 1);
  CHECK(out.alignment_step == AlignmentStep::shift);

  // Resuming cannot start guiding: the checkpoint's model has no head to continue.
  TrainConfig resumed = slice_config(dir, "");
  resumed.output_dir = dir.file("base");
  resumed.resume = true;
  resumed.guided_alignment = dir.file("train.links");
  resumed.max_updates = 3;
  CHECK_THROWS_WITH_AS(train(resumed, requested), doctest::Contains("fine-tune with --init"), Error);
}

TEST_CASE("corpora of different lengths are refused before training, naming both files and counts") {
  TempDir dir;
  write_text(dir.file("a.en"), "one\ntwo\nthree\n");
  write_text(dir.file("a.de"), "eins\nzwei\n");
  TrainConfig c = slice_config(dir, slice_vocabulary(dir));
  c.train_source = dir.file("a.en");
  c.train_target = dir.file("a.de");
  CHECK_THROWS_WITH_AS(train(c, small_model()),
                       doctest::Contains((dir.file("a.en") + " has 3 lines but " + dir.file("a.de") + " has 2").c_str()), Error);
  CHECK_FALSE(std::filesystem::exists(dir.path / "run" / kCheckpointFile));
}

TEST_CASE("invalid UTF-8 is reported with its file and line") {
  TempDir dir;
  write_text(dir.file("bad.en"), "fine\nalso fine\nbroken \xC3\x28 here\n");
  CHECK_THROWS_WITH_AS(read_lines(dir.file("bad.en")), doctest::Contains((dir.file("bad.en") + ":3: invalid UTF-8 at byte 8").c_str()), Error);
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
    write_text(dir.file("x.txt"), std::string("ok ") + bad + "\n");
    CHECK_THROWS_AS(read_lines(dir.file("x.txt")), Error);
  }
  write_text(dir.file("good.txt"), "Käse, Straße, 東京, 🙂\n");
  CHECK(read_lines(dir.file("good.txt")).size() == 1);
}

TEST_CASE("empty pairs and pairs over the length limit are skipped and counted") {
  TempDir dir;
  const std::string vocab_path = slice_vocabulary(dir);
  const Vocabulary v = Vocabulary::from_serialized(read_file(vocab_path), vocab_path);
  write_text(dir.file("s.en"), "A dog runs.\n\n   \nA man with a very long sentence that goes on and on and on and on.\nA cat.\n");
  write_text(dir.file("s.de"), "Ein Hund rennt.\nLeer links.\n\t\nEin Mann.\n\n");
  const Corpus c = read_parallel_corpus(dir.file("s.en"), dir.file("s.de"), v, v, 12);
  CHECK(c.stats.lines == 5);
  CHECK(c.stats.kept == 1);
  CHECK(c.stats.empty == 3);
  CHECK(c.stats.too_long == 1);
  CHECK(c.pairs[0].line == 0);
}

TEST_CASE("missing files and an unwritable output directory are clear errors") {
  TempDir dir;
  const std::string vocab = slice_vocabulary(dir);
  TrainConfig c = slice_config(dir, vocab);
  c.train_source = dir.file("absent.en");
  CHECK_THROWS_WITH_AS(train(c, small_model()), doctest::Contains("absent.en: no such file"), Error);

  write_text(dir.file("a-file"), "x");
  TrainConfig d = slice_config(dir, vocab);
  d.output_dir = dir.file("a-file/run");
  CHECK_THROWS_WITH_AS(train(d, small_model()), doctest::Contains("cannot create the output directory"), Error);

  TrainConfig e = slice_config(dir, vocab);
  e.vocabulary = dir.file("absent.model");
  CHECK_THROWS_WITH_AS(train(e, small_model()), doctest::Contains("absent.model: no such file"), Error);

  TrainConfig f = slice_config(dir, vocab);
  f.resume = true;
  f.output_dir = dir.file("never-trained");
  CHECK_THROWS_WITH_AS(train(f, small_model()), doctest::Contains("never-trained: no such directory"), Error);
  CHECK(!std::filesystem::exists(f.output_dir));  // --resume never makes the directory
  std::filesystem::create_directory(f.output_dir);
  CHECK_THROWS_WITH_AS(train(f, small_model()), doctest::Contains("checkpoint.state: no such file"), Error);
}

TEST_CASE("Ctrl-C stops training at the next update with a checkpoint to resume from") {
  TempDir dir;
  TrainConfig c = slice_config(dir, slice_vocabulary(dir));
  c.max_updates = 1000;
  install_stop_handlers();
  std::raise(SIGINT);  // the first Ctrl-C only asks; the process goes on
  const TrainSummary s = train(c, small_model());
  clear_stop_request();
  CHECK(s.stop_reason == "interrupted");
  CHECK(s.updates < 1000);
  REQUIRE(std::filesystem::exists(dir.path / "run" / kCheckpointFile));
  c.resume = true;
  c.max_updates = 3;
  const TrainSummary resumed = train(c, small_model());
  CHECK(resumed.updates == 3);
}
