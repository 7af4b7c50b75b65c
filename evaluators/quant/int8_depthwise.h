// The int8 depthwise convolution (MobileNet's depthwise layer, MBConv's middle op): u8
// activations x s8 weights, s32 accumulation, per-channel dequantization, bias and activation
// fused, on oneDNN's int8 convolution where the CPU has VNNI or AMX and on hwnas's exact AVX2
// rows (int8_depthwise_rows.h) elsewhere; and the plain integer reference both are tested against.
// quantize_int8 attaches one to each depthwise layer its plan quantizes (DepthwiseLayer's site).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "evaluators/engine/tensor.h"
#include "evaluators/ops/depthwise_layer.h"
#include "evaluators/ops/op_params.h"
#include "evaluators/quant/quant_params.h"

namespace hwnas {

/// A depthwise k x k convolution in int8:
///   out(b,y,x,c) = act(scale[c] * sum_{ky,kx} q_a(b, y*s-pad+ky, x*s-pad+kx, c) * q_w[ky,kx,c]
///                      + bias'[c])
/// with q_a = the u8 activations (one scale and zero point for the tensor: a per-channel zero
/// point would need per-channel padding, which oneDNN's convolution does not take), q_w the s8
/// weights per output channel with the activation scale folded in (quantize_weights on the
/// (k*k) x c filter), and bias' = folded_bias(bias). Zero padding is real zero, i.e. q_a = z:
/// the input is quantized into a buffer already padded with z, and the zero point's share of
/// every window, z * sum q_w[., ., c], is folded into bias' (Jacob et al., CVPR 2018).
/// Thread-safe; each call runs on the engine's threads (rows of the output in slabs).
class Int8Depthwise final : public DepthwiseSite {
 public:
  /// p: channels, kernel, stride, pad, activation (as depthwise_conv2d). weight (k,k,c)
  /// row-major fp32, bias (c) or null, act: per-tensor u8 quantization of the input. Throws
  /// hwnas::Error for a per-channel `act`, bad params, or as require_int8_cpu().
  Int8Depthwise(const DepthwiseConv2dParams& p, const float* weight, const float* bias,
                ActivationQuant act);
  /// The same on a layer's parameters and weights, to be attached as its site.
  Int8Depthwise(const DepthwiseLayer& layer, ActivationQuant act)
      : Int8Depthwise(layer.params(), layer.weight(), layer.bias(), std::move(act)) {}
  ~Int8Depthwise() override;
  Int8Depthwise(const Int8Depthwise&) = delete;
  Int8Depthwise& operator=(const Int8Depthwise&) = delete;

  /// in (B,H,W,c) fp32 NHWC; out (B,Ho,Wo,c) preallocated, distinct from in. Throws
  /// hwnas::Error via validate() or for a oneDNN failure.
  void run(const Tensor& in, Tensor& out);
  /// As a DepthwiseSite: run(in, out), always taken.
  bool run(const DepthwiseLayer&, const Tensor& in, Tensor& out) override {
    run(in, out);
    return true;
  }

  const DepthwiseConv2dParams& params() const { return p_; }
  const ActivationQuant& activation_quant() const { return act_; }
  const QuantizedWeights& weights() const { return weights_; }
  const std::vector<float>& folded_bias() const { return bias_; }
  /// oneDNN's implementation of the last primitive made, e.g. "jit_int8:avx512_core_vnni", or
  /// "hwnas:avx2_u8s8_s32" when the last Int8Depthwise made runs on int8_depthwise_rows.h.
  static std::string last_implementation();

  struct Slab;  ///< one (image rows) shape's primitive (int8_depthwise.cpp)

 private:
  Slab& slab(int rows_in, int rows_out, int wp, int wo);

  DepthwiseConv2dParams p_;
  ActivationQuant act_;
  ColumnQuant columns_;  // act_ over the c channels, made once: run() is called per layer
  QuantizedWeights weights_;
  bool onednn_ = true;              // int8_on_onednn() when made
  std::vector<std::int32_t> wide_;  // otherwise: the s8 weights widened for int8_depthwise_rows.h
  std::vector<float> bias_;
  std::mutex mutex_;
  std::map<std::pair<int, int>, std::shared_ptr<Slab>> slabs_;  // by (rows out, padded width)
};

/// Plain loops with exact integer sums on the same quantized values:
///   out = act(w.scale[c] * sum (q_a - z) * q_w + bias[c]) (w from Int8Depthwise::weights(), the
///   activation scale folded in), padding contributing 0. in (B,H,W,c), out (B,Ho,Wo,c).
void depthwise_conv2d_int8_reference(const DepthwiseConv2dParams& p, const Tensor& in,
                                     const ActivationQuant& act, const QuantizedWeights& w,
                                     const float* bias, Tensor& out);

}  // namespace hwnas
