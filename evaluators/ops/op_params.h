// Typed parameters of every engine operator, validated in one place (XNNPACK-style).
#pragma once

#include "evaluators/engine/tensor.h"
#include "evaluators/ops/activation.h"

namespace hwnas {

/// 2-d convolution, NHWC input, weights (kh, kw, cin, cout) ("HWIO"), square kernel.
struct Conv2dParams {
  int cin = 0, cout = 0, kernel = 1, stride = 1, pad = 0;
  Activation act = Activation::none;
};
/// Linear / 1x1 convolution over the last (channel) dimension; weights (in, out) row-major.
struct LinearParams {
  int in = 0, out = 0;
  Activation act = Activation::none;
};
/// PoolFormer token mixer: out = x + ls * (avgpool(x) - x), pool x pool, stride 1,
/// pad pool/2, padding not counted in the average (count_include_pad=False).
struct PoolMixerParams {
  int c = 0, pool = 3;
};
/// LayerNorm over channels of each token (biased variance, eps inside the sqrt).
struct LayerNormParams {
  int c = 0;
  float eps = 1e-5f;
};
/// EfficientFormer multi-head self-attention core on an h x w token grid (timm Attention):
/// qkv rows hold per head [q (kd), k (kd), v (dv)]; logits = q k^T * kd^-0.5 +
/// bias[head, |dr|*w + |dc|]; softmax over keys; out rows hold per head dv values.
struct EfficientFormerAttentionParams {
  int heads = 0, kd = 0, dv = 0, h = 0, w = 0;
  int qkv_width() const { return heads * (2 * kd + dv); }
  int out_width() const { return heads * dv; }
};
/// Max pooling with a square window and stride equal to the window, no padding (Hiera's
/// Q-pooling of the shortcut, torch max over the q_stride view). H and W must divide by it.
struct MaxPoolParams {
  int c = 0, window = 2;
};
/// Hiera's multi-head attention inside non-overlapping window x window mask units of an h x w
/// token map (window 0: one global window), optionally with queries max-pooled 2x2 (stride 2)
/// inside each window (Q-pooling). qkv rows hold [q | k | v], each heads*head_dim wide,
/// head-major inside; logits = (q * head_dim^-0.5) k^T; softmax over the window's keys.
struct WindowAttentionParams {
  int heads = 0, head_dim = 0, h = 0, w = 0, window = 0;
  bool qpool = false;
  int width() const { return heads * head_dim; }
  int qkv_width() const { return 3 * width(); }
  int out_h() const { return qpool ? h / 2 : h; }
  int out_w() const { return qpool ? w / 2 : w; }
};

/// Depthwise 2-d convolution (groups = channels), NHWC input, weights (k, k, c), square kernel,
/// zero padding; fused bias and activation.
struct DepthwiseConv2dParams {
  int c = 0, kernel = 3, stride = 1, pad = 1;
  Activation act = Activation::none;
};
/// Average pooling k x k, stride s, zero padding counted in the mean (PyTorch AvgPool2d with
/// count_include_pad=True, floor mode): every window sum is divided by k*k.
struct AvgPoolIncludePadParams {
  int c = 0, kernel = 2, stride = 2, pad = 0;
};
/// Squeeze-and-excitation on c channels with a bottleneck of `reduced` (both 1x1 convs biased):
/// x * hsigmoid(W2 relu(W1 mean(x) + b1) + b2) (MobileNetV3's SE).
struct SqueezeExciteParams {
  int c = 0, reduced = 0;
};
/// LayerNorm over all tokens and channels of each sample together (F.layer_norm(x, x.shape[1:])
/// on (B, N, C)), then a per-channel affine; biased variance, eps inside the sqrt.
struct SampleNormParams {
  int c = 0;
  float eps = 1e-5f;
};
/// Multi-head attention with q/k and v in separate tensors and an additive dense bias per head:
/// qk rows hold per head [q (kd), k (kd)], v rows per head dv values, n tokens;
/// logits = q k^T * kd^-0.5 + bias[head][query][key]; softmax over keys.
struct BiasedAttentionParams {
  int heads = 0, kd = 0, dv = 0, n = 0;
  int qk_width() const { return heads * 2 * kd; }
  int v_width() const { return heads * dv; }
};

/// Output shape of a convolution on `in` (floor((H + 2 pad - k) / stride) + 1).
int conv_out_size(int size, int kernel, int stride, int pad);

/// The one validation point: throws hwnas::Error naming the operator, the bad parameter and
/// the tensor shapes when parameters are non-positive or shapes do not fit.
void validate(const Conv2dParams& p, const Tensor& in, const Tensor& out);
void validate(const LinearParams& p, const Tensor& in, const Tensor& out);
void validate(const PoolMixerParams& p, const Tensor& in, const Tensor& out);
void validate(const LayerNormParams& p, const Tensor& in, const Tensor& out);
void validate(const EfficientFormerAttentionParams& p, const Tensor& qkv, const Tensor& out);
void validate(const DepthwiseConv2dParams& p, const Tensor& in, const Tensor& out);
void validate(const AvgPoolIncludePadParams& p, const Tensor& in, const Tensor& out);
void validate(const SqueezeExciteParams& p, const Tensor& x);
void validate(const SampleNormParams& p, const Tensor& in, const Tensor& out);
void validate(const BiasedAttentionParams& p, const Tensor& qk, const Tensor& v, const Tensor& out);
void validate(const MaxPoolParams& p, const Tensor& in, const Tensor& out);
void validate(const WindowAttentionParams& p, const Tensor& qkv, const Tensor& out);

}  // namespace hwnas
