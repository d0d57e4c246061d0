#pragma once
// A batch as the model reads it (token ids and, when training with guided alignment, the links
// each target position should attend to), and how sequences become rows of one.

#include <cstdint>

#include "heed/core/tensor.h"

namespace heed {

// Which decoder step's attention stands for a target word: the step that predicts it (its input is
// the previous word), or the step whose input it is ("shift", Chen et al. 2020), which sees the word.
enum class AlignmentStep : uint8_t { predict, shift };

// The ids that frame a model's sequences, and the step its guided links land on: what turning
// sentence pairs into a batch needs to know of the model (ModelConfig::batch_layout()).
struct BatchLayout {
  int32_t pad_id = 0;
  int32_t bos_id = 2;
  int32_t eos_id = 3;
  AlignmentStep alignment_step = AlignmentStep::predict;
};

// One batch. Sequences are right-padded with pad_id.
struct Batch {
  Tensor source;      // [B, S] i32
  Tensor target_in;   // [B, T] i32: bos y₁ … yₙ
  Tensor target_out;  // [B, T] i32: y₁ … yₙ eos
  // Guided alignment (guided_alignment.h), training only: [B, T, S] f32, the links each target
  // position's prediction should attend to with the model's alignment head; empty: no such term.
  Tensor alignment;
  float alignment_weight = 0.0f;

  // Sequences [first, end) of the batch (views), padded as the whole batch is.
  Batch sequences(int64_t first, int64_t end) const {
    Batch part{source.slice_rows(first, end), target_in.slice_rows(first, end), target_out.slice_rows(first, end), {},
               alignment_weight};
    if (alignment.shape().rank() > 0) part.alignment = alignment.slice_rows(first, end);
    return part;
  }
};

}  // namespace heed
