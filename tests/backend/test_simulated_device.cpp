// Model, decoding and training code on a device: the simulated device (support/simulated_device.h)
// hands out memory the host may not touch, so these runs fail at the first tensor read or written
// outside the backend, and their results must equal the host's to the bit.

#include <doctest/doctest.h>

#include <cstring>

#include "heed/align/aligner.h"
#include "heed/core/error.h"
#include "heed/core/threads.h"
#include "heed/decode/translator.h"
#include "heed/devices/devices.h"
#include "heed/train/optimizer.h"
#include "model/model_support.h"
#include "support/simulated_device.h"

using namespace heed;
using namespace heed::test;

namespace {

// The host copy of a device tensor, for comparisons.
Tensor on_host(Backend& be, const Tensor& t) {
  Tensor host = Tensor::empty(t.shape(), t.dtype());
  be.download(t, host);
  return host;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

struct OneThread {
  int before = current_threads();
  OneThread() { set_threads(1); }
  ~OneThread() { set_threads(before); }
};

}  // namespace

TEST_CASE("a device's tensors cannot be read or written on the host") {
  SimulatedDeviceBackend device;
  const Tensor t = device.allocate(Shape{4});
  CHECK(t.device() == Device::cuda);
  CHECK_THROWS_WITH_AS(t.f32(), doctest::Contains("read or written on the host"), Error);
  CHECK_THROWS_AS(t.zero(), Error);
  CHECK_THROWS_AS(t.fill(1.0f), Error);
  CHECK_THROWS_AS(Tensor::zeros(Shape{4}).copy_from(t), Error);
  // Through the backend it works.
  device.fill(t, 2.5);
  const Tensor host = on_host(device, t);
  CHECK(host.f32()[3] == 2.5f);
  // A host tensor given to a device op is refused, not silently read.
  auto cpu = make_backend(BackendKind::onednn);
  CHECK_THROWS_AS(device.add(Tensor::zeros(Shape{4}), t, t), Error);
}

TEST_CASE("loss, gradients and an Adam update on a device equal the host's, bit for bit") {
  OneThread one;
  auto host = make_backend(BackendKind::onednn);
  SimulatedDeviceBackend device;
  const ModelConfig c = tiny_config();
  Transformer a(c), b(c);
  a.parameters().initialize(4);
  b.parameters().initialize(4);
  b.parameters().place_on(device);
  CHECK(b.parameters().values().device() == Device::cuda);
  CHECK(b.parameters().all().front().value.device() == Device::cuda);
  Adam adam_a(*host, a.parameters(), {}), adam_b(device, b.parameters(), {});

  const RunMode mode{.training = true, .seed = 9};
  for (int update = 0; update < 2; ++update) {
    a.parameters().zero_grads(*host);
    b.parameters().zero_grads(device);
    LossGradients ga, gb;
    const LossSums la = a.forward_loss(*host, tiny_batch(), 0.1f, mode, &ga);
    const LossSums lb = b.forward_loss(device, tiny_batch(), 0.1f, mode, &gb);
    CHECK(la.loss == lb.loss);
    a.backward(*host, ga, 0.5f);
    b.backward(device, gb, 0.5f);
    CHECK(b.parameters().grads().device() == Device::cuda);
    CHECK(same_bits(a.parameters().grads(), on_host(device, b.parameters().grads())));
    adam_a.step(*host);
    adam_b.step(device);
  }
  CHECK(same_bits(a.parameters().values(), on_host(device, b.parameters().values())));
  CHECK(same_bits(adam_a.second_moment_on_host(), adam_b.second_moment_on_host()));

  // Saving goes through a host copy.
  Transformer saved(c);
  saved.parameters().download_values(device, b.parameters());
  CHECK(same_bits(saved.parameters().values(), a.parameters().values()));
}

TEST_CASE("translation and alignment on a device equal the host's, with several workers") {
  OneThread one;
  ModelConfig c = tiny_config();
  c.source_vocab = c.target_vocab = test_vocabulary().size();
  c.max_positions = 64;
  Transformer on_cpu(c), on_device(c);
  on_cpu.parameters().initialize(5);
  on_device.parameters().initialize(5);
  auto host = make_backend(BackendKind::onednn);
  SimulatedDeviceBackend device0, device1;

  TranslateOptions options;
  options.beam.beam = 4;
  options.beam.n_best = 2;
  options.batch_sentences = 2;
  options.threads_per_worker = 1;
  const std::vector<std::string> lines = {"the cat sat on a mat", "", "a red dog ran to the blue house", "cat",
                                          "the mat sat on the dog", "a dog"};
  Translator expected(*host, on_cpu, test_vocabulary(), test_vocabulary(), options);
  Translator got(std::vector<Backend*>{&device0, &device1}, on_device, test_vocabulary(), test_vocabulary(), options);
  CHECK(on_device.parameters().values().device() == Device::cuda);  // placed once, read by both workers
  const auto e = expected.translate(lines, 1), g = got.translate(lines, 1);
  REQUIRE(e.size() == g.size());
  for (size_t i = 0; i < e.size(); ++i) {
    CAPTURE(i);
    CHECK(g[i].texts == e[i].texts);
    CHECK(g[i].scores == e[i].scores);
  }

  Aligner align_host(*host, on_cpu, test_vocabulary(), test_vocabulary(), {});
  Aligner align_device(device0, on_device, test_vocabulary(), test_vocabulary(), {});
  const PairAlignment ah = align_host.align("the cat sat on a mat", "a dog ran to the house");
  const PairAlignment ad = align_device.align("the cat sat on a mat", "a dog ran to the house");
  CHECK(ad.words.values == ah.words.values);
  CHECK(ad.links.size() == ah.links.size());
}
