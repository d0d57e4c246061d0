// The CUDA backend on a GPU, as a whole model: loss, gradients and Adam against the oneDNN
// backend, and translation against the CPU's. The op-by-op checks are the CPU suites run through
// a HostAdapter (HEED_TEST_DEVICE=cuda, tools/gpu-check). Without the backend or a GPU these
// tests print that they were skipped (ctest lists them as skipped) and check only that asking
// for the device fails with a message that says why.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "heed/devices/devices.h"
#include "heed/core/error.h"
#include "heed/core/threads.h"
#include "heed/decode/translator.h"
#include "heed/train/optimizer.h"
#include "model/model_support.h"

using namespace heed;
using namespace heed::test;

namespace {

// True when a GPU is here to test on; otherwise says so (ctest's skip pattern) and checks the
// error a user gets.
bool have_gpu() {
  if (!built_with_cuda()) {
    std::printf("skipped for want of a GPU: this build has no CUDA backend\n");
    CHECK_THROWS_WITH_AS(parse_device("cuda"), doctest::Contains("no CUDA backend"), Error);
    return false;
  }
  if (cuda_gpu_count() == 0) {
    std::printf("skipped for want of a GPU: the CUDA backend is built, and no GPU was found\n");
    CHECK_THROWS_WITH_AS(parse_device("cuda:0"), doctest::Contains("0 CUDA GPU(s)"), Error);
    return false;
  }
  return true;
}

Tensor on_host(Backend& be, const Tensor& t) {
  Tensor host = Tensor::empty(t.shape(), t.dtype());
  be.download(t, host);
  return host;
}

}  // namespace

TEST_CASE("cuda: cuBLASLt is loaded when a CUDA backend is made, never by a CPU run") {
  // A CPU computation first: a CUDA build must not map cuBLASLt's ~150 MB for it.
  auto cpu = make_backend(BackendKind::onednn);
  const Tensor a = cpu->allocate({4, 8}), b = cpu->allocate({8, 3}), c = cpu->allocate({4, 3});
  cpu->fill(a, 0.5);
  cpu->fill(b, 2.0);
  cpu->matmul(a, b, c);
  CHECK(c.f32()[0] == doctest::Approx(8.0));
  if (!built_with_cuda()) return;
  if (cuda_gpu_count() == 0) {
    CHECK_FALSE(cuda_matmul_library_loaded());
    load_cuda_matmul_library();  // the library and its 13 functions are found without a GPU too
  } else {
    auto gpu = make_backend(parse_device("cuda"));
  }
  CHECK(cuda_matmul_library_loaded());
}

TEST_CASE("cuda: loss, gradients and Adam updates of a whole model equal the CPU's") {
  if (!have_gpu()) return;
  const int threads = current_threads();
  set_threads(1);
  auto host = make_backend(BackendKind::onednn);
  auto gpu = make_backend(parse_device("cuda"));
  const ModelConfig c = tiny_config();
  Transformer a(c), b(c);
  a.parameters().initialize(4);
  b.parameters().initialize(4);
  b.parameters().place_on(*gpu);
  Adam adam_a(*host, a.parameters(), {}), adam_b(*gpu, b.parameters(), {});
  const RunMode mode{.training = true, .seed = 9};  // dropout on: the same masks on both
  for (int update = 0; update < 3; ++update) {
    CAPTURE(update);
    a.parameters().zero_grads(*host);
    b.parameters().zero_grads(*gpu);
    LossGradients ga, gb;
    const LossSums la = a.forward_loss(*host, tiny_batch(), 0.1f, mode, &ga);
    const LossSums lb = b.forward_loss(*gpu, tiny_batch(), 0.1f, mode, &gb);
    CHECK(std::abs(la.loss - lb.loss) <= 1e-4 * std::abs(la.loss));
    CHECK(la.tokens == lb.tokens);
    a.backward(*host, ga, 0.5f);
    b.backward(*gpu, gb, 0.5f);
    CHECK(normalized_error(on_host(*gpu, b.parameters().grads()), a.parameters().grads()) <= 1e-4);
    adam_a.step(*host);
    adam_b.step(*gpu);
  }
  CHECK(normalized_error(on_host(*gpu, b.parameters().values()), a.parameters().values()) <= 1e-4);
  set_threads(threads);
}

TEST_CASE("cuda: beam search translates as on the CPU, with two workers sharing the weights") {
  if (!have_gpu()) return;
  ModelConfig c = tiny_config();
  c.source_vocab = c.target_vocab = test_vocabulary().size();
  c.max_positions = 64;
  Transformer on_cpu(c), on_gpu(c);
  on_cpu.parameters().initialize(5);
  on_gpu.parameters().initialize(5);
  auto host = make_backend(BackendKind::onednn);
  auto gpu0 = make_backend(parse_device("cuda")), gpu1 = make_backend(parse_device("cuda"));
  TranslateOptions options;
  options.beam.beam = 4;
  options.batch_sentences = 2;
  options.threads_per_worker = 1;
  const std::vector<std::string> lines = {"the cat sat on a mat", "", "a red dog ran to the blue house", "cat",
                                          "the mat sat on the dog", "a dog"};
  Translator expected(*host, on_cpu, test_vocabulary(), test_vocabulary(), options);
  Translator got(std::vector<Backend*>{gpu0.get(), gpu1.get()}, on_gpu, test_vocabulary(), test_vocabulary(), options);
  const auto e = expected.translate(lines, 1), g = got.translate(lines, 1);
  REQUIRE(e.size() == g.size());
  for (size_t i = 0; i < e.size(); ++i) {
    CAPTURE(i);
    CHECK(g[i].texts == e[i].texts);
    REQUIRE(g[i].scores.size() == e[i].scores.size());
    for (size_t k = 0; k < e[i].scores.size(); ++k) CHECK(std::abs(g[i].scores[k] - e[i].scores[k]) <= 1e-3);
  }
}
