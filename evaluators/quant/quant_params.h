// Affine int8 quantization of a GEMM layer: u8 activations (per tensor or per input channel) and
// s8 weights (per output channel or per tensor), in the form oneDNN's int8 matmul consumes.
// Scheme (Jacob et al., CVPR 2018; granularity per layer as Q-HyViT, IoT Journal 2024):
//   a ~ s_c * (q_a - z_c), q_a in [0, 255], c = the input channel of a's column;
//   A * W = sum_r s_c(r) (q_a[r] - z_c(r)) W[r, :] = (q_a - z) * W'  with W'[r, :] = s_c(r) W[r,
//   :],
// so per-channel activation scales fold into the weights before they are quantized per output
// channel, and the zero points fold into the bias: both granularities run the same int8 kernel.
// Rounding is half to even (std::nearbyint, torch.round) on x * (1 / s), 1 / s in fp32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hwnas {

/// One scale for the whole tensor, or one per channel (input channel for activations, output
/// channel for weights).
enum class Granularity { per_tensor, per_channel };
/// "per-tensor" / "per-channel"; parse throws hwnas::Error naming the accepted values.
const char* granularity_name(Granularity g);
Granularity parse_granularity(const std::string& name);

/// u8 quantization of one activation tensor entering a GEMM: `channels` scale / zero-point
/// pairs (all equal when per_tensor); column j of the k-column operand reads channel
/// j % channels.
struct ActivationQuant {
  Granularity granularity = Granularity::per_tensor;
  std::vector<float> scale;              ///< per channel, > 0
  std::vector<std::int32_t> zero_point;  ///< per channel, in [0, 255]
  int channels() const { return static_cast<int>(scale.size()); }
};

/// Scale and zero point mapping [lo, hi] onto [0, 255]. The range is first widened to include
/// 0, so that 0 (padding, ReLU's floor) is exact and the zero point cannot leave [0, 255]: a
/// range wholly above or below zero would otherwise give a zero point outside the u8 range
/// (the zero-point overflow Q-HyViT names), which wraps and shifts every value. A range of
/// width 0 gets scale 1. Throws hwnas::Error on a non-finite bound.
struct AffineU8 {
  float scale = 1;
  std::int32_t zero_point = 0;
};
AffineU8 affine_u8(float lo, float hi);

/// An ActivationQuant spread over the k columns of one operand (s, 1 / s and z per column), so
/// that the row loops vectorize.
struct ColumnQuant {
  std::vector<float> scale, inv;
  std::vector<std::int32_t> zero;
  int k() const { return static_cast<int>(scale.size()); }
};
/// Throws hwnas::Error if k is not a multiple of the channel count.
ColumnQuant expand_columns(const ActivationQuant& quant, int k);

/// q[i, j] = clamp(nearbyint(a[i, j] * (1 / s_j)) + z_j, 0, 255) for an m x k row-major `a`
/// (leading dimension lda, k = cols.k()) into q (m x k, dense).
void quantize_activations(const ColumnQuant& cols, int m, const float* a, int lda, std::uint8_t* q);
/// (q - z_c) * s_c: what a quantized activation stands for (the fake-quant value).
void fake_quantize_activations(const ActivationQuant& quant, int m, int k, const float* a, int lda,
                               float* out);

/// A k x n weight matrix with the activation scales folded in, quantized to s8 in [-127, 127]
/// (symmetric: the kernels take no weight zero point) per output channel or per tensor.
struct QuantizedWeights {
  int k = 0, n = 0;
  std::vector<std::int8_t> q;          ///< k x n row-major
  std::vector<float> scale;            ///< per output column (all equal when per_tensor)
  std::vector<std::int32_t> zero_sum;  ///< sum_r z_c(r) * q[r, j]: the zero points' share
};
/// Quantizes w (k x n row-major fp32) for activations quantized by `act`. Throws hwnas::Error
/// if the sizes disagree.
QuantizedWeights quantize_weights(const std::vector<float>& w, int k, int n,
                                  const ActivationQuant& act, Granularity granularity);
/// The bias the int8 product needs: out[j] = bias[j] (0 if null) - scale[j] * zero_sum[j], so
/// that scale[j] * (q_a * q_w)[:, j] + out[j] = (fake-quant a) * (fake-quant W')[:, j] + bias[j].
void folded_bias(const QuantizedWeights& w, const float* bias, int j0, int n, float* out);

}  // namespace hwnas
