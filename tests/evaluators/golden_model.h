// Golden parity of a whole model with an independent implementation (timm, the official
// ElasticViT code): the files of ../shared/golden/<stem>.* and the one check all such tests share.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "evaluators/engine/model.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/io/npy.h"
#include "evaluators/io/safetensors.h"
#include "spaces/network.h"

namespace hwnas::test {

/// A (N, C, H, W) float array as an NHWC tensor (N, H, W, C).
Tensor nchw_to_nhwc(const NpyArray& a);

/// max_i |a[i] - b[i]| over n floats.
double max_abs_diff(const float* a, const float* b, std::size_t n);

/// ../shared/golden/<stem>.safetensors (weights under the reference's names), .input.npy (NCHW,
/// held here as NHWC), .logits.npy and .stages.npz (stage outputs: 4-d arrays are NCHW, others
/// token-major (B, N, C), i.e. NHWC memory already).
struct GoldenModel {
  WeightStore weights;
  Tensor input;
  NpyArray logits;
  std::map<std::string, NpyArray> stages;
};

/// The golden files of `stem`, read once per test binary. Throws what the readers throw.
const GoldenModel& golden_model(const std::string& stem);

/// Runs `net` with the golden weights at `threads` threads on `path` and checks the output of
/// every block named in `stage_ends` (block index -> stages.npz key) within
/// kGoldenStageRelTol * max(1, max |value|) and the logits within kGoldenLogitAbsTol (absolute;
/// tests/support/golden_tolerances.h), printing each difference.
/// GoogleTest assertions inside.
void check_golden_model(const GoldenModel& golden, const Network& net,
                        const std::map<std::size_t, std::string>& stage_ends, KernelPath path,
                        int threads);

}  // namespace hwnas::test
