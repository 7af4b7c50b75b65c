// The int8 product of one GEMM layer (u8 activations x s8 weights, s32 accumulation,
// per-output-channel dequantization, bias and activation fused): on oneDNN's int8 matmul where
// the CPU has VNNI or AMX, on hwnas's exact AVX2 pair kernel (int8_gemm_pairs.h) elsewhere; and
// the plain integer reference both are tested against.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "evaluators/ops/packed_gemm.h"
#include "evaluators/quant/quant_params.h"

namespace hwnas {

/// True when oneDNN runs u8 x s8 products natively on this CPU (VNNI or AMX). Without them
/// its u8 x s8 pair sums go through 16-bit saturating instructions (or its reference loops),
/// neither fast nor equal to the integer reference, so Int8Gemm runs the pair kernel instead.
bool int8_on_onednn();
/// True when int8 runs here exactly: int8_on_onednn() or int8_pairs_available() (AVX2).
bool int8_supported();
/// Which kernels run the int8 products here, for reports: "oneDNN" (int8_on_onednn()),
/// "hwnas-avx2" (int8_gemm_pairs.h, int8_depthwise_rows.h) or "none" (int8 refused).
const char* int8_kernels();
/// Throws hwnas::Error naming the CPU's instruction set and the fix (--precision fp32) unless
/// int8_supported().
void require_int8_cpu();

/// A layer's weights quantized for its activations' quantization, run in int8. As a GemmSite
/// attached to the layer's PackedWeights it computes every product on them:
///   C = act(scale[j] * (q_a * q_w)[:, j] + bias'[j]) + residual,
/// with q_a = quantize_activations(a), bias' = folded_bias(bias). Panel ranges (column splits
/// of gemm_packed) get their own reordered copy of their columns, made on first use.
/// Thread-safe.
class Int8Gemm final : public GemmSite {
 public:
  /// Quantizes `fp32` (k x n; its row_period picks the channel of each column) for `act` at
  /// `weights` granularity and reorders the s8 weights into oneDNN's layout. Throws
  /// hwnas::Error as require_int8_cpu(), quantize_weights or oneDNN.
  Int8Gemm(const PackedWeights& fp32, ActivationQuant act, Granularity weights);
  bool run(int m, const float* a, int lda, const PackedWeights& b, float* c, int ldc,
           const GemmEpilogue& ep, int p0, int p1) override;

  const ActivationQuant& activation_quant() const { return act_; }
  const QuantizedWeights& weights() const { return weights_; }
  /// oneDNN's implementation of the last primitive made, e.g. "brg:avx512_core_amx_int8", or
  /// "hwnas:avx2_u8s8_s16_pairs" when the last Int8Gemm made runs on the pair kernel.
  static std::string last_implementation();

  struct Range;  ///< s8 weights of one column range in oneDNN's layout (int8_gemm.cpp)

 private:
  Range& range(int j0, int n);

  ActivationQuant act_;
  bool onednn_ = true;  // int8_on_onednn() when made; the pair kernel otherwise
  ColumnQuant columns_;
  QuantizedWeights weights_;
  int panel_ = 0;
  std::mutex mutex_;
  std::map<std::pair<int, int>, std::shared_ptr<Range>> ranges_;
};

/// Plain loops: C = act(scale[j] * sum_r (q_a[i, r] * q_w[r, j]) + bias'[j]) + residual with
/// exact integer sums, q_a = quantize_activations(a) (m x k, lda), bias' = folded_bias(bias).
/// C m x n (ldc), residual as GemmEpilogue.
void gemm_int8_reference(int m, const float* a, int lda, const ActivationQuant& act,
                         const QuantizedWeights& w, float* c, int ldc, const GemmEpilogue& ep);

}  // namespace hwnas
