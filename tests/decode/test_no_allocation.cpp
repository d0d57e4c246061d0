// Decoding allocates nothing per step once warm: this binary counts every operator new, and a
// decoder step (and a beam reordering) after the first ones must not make any in heed's code.
// oneDNN 2.6 allocates a few small blocks inside each primitive execution (its argument map);
// those are counted apart, to show they are the only ones.

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "heed/data/batcher.h"
#include "heed/model/incremental_decoder.h"
#include "model/model_support.h"

#include "heed/backend/onednn/primitive_cache.h"
#include "heed/devices/devices.h"

namespace {
std::atomic<long> g_allocations{0};         // in heed's code
std::atomic<long> g_onednn_allocations{0};  // inside oneDNN's execute
}  // namespace

void* operator new(std::size_t size) {
  (heed::inside_onednn_execution() ? g_onednn_allocations : g_allocations).fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace heed;
using namespace heed::test;

TEST_CASE("a warm decoder step and a beam reordering allocate nothing") {
  auto be = make_backend(BackendKind::onednn);
  Transformer model(tiny_config());
  model.parameters().initialize(3);
  const Tensor source = source_ids({{5, 6, 7}, {8, 9}, {10, 11, 12, 4}}, model.config().batch_layout());
  IncrementalDecoder decoder(model);
  decoder.start(*be, source, 12);
  Tensor tokens = Tensor::zeros(Shape{3}, DType::i32);
  const std::vector<int32_t> reorder{2, 0, 1};
  // Warm-up: the first steps create oneDNN primitives and grow buffers.
  for (int i = 0; i < 3; ++i) {
    decoder.step(*be, tokens);
    decoder.select_rows(*be, reorder, RowSelection::self_attention);
  }
  const long before = g_allocations.load(), onednn_before = g_onednn_allocations.load();
  for (int i = 0; i < 5; ++i) {
    decoder.step(*be, tokens);
    decoder.select_rows(*be, reorder, RowSelection::self_attention);
  }
  CHECK(g_allocations.load() - before == 0);
  MESSAGE("oneDNN's own allocations in 5 steps: " << g_onednn_allocations.load() - onednn_before);
}
