// How close hwnas must come to the outputs of other implementations, one constant per
// comparison. Each sits about 10x above the worst error measured (Zen 4 EPYC, 2026-12-02, fp32,
// 1 and 2 threads, fast and reference kernels; `ctest -L golden -V` prints every figure), so
// that a kernel change costing a factor of 10 fails while another CPU's rounding passes.
#pragma once

namespace hwnas::test {

/// Stage outputs against timm / the official code (EfficientFormer L1, ElasticViT T1, Hiera
/// small), max |diff| / max(1, max |value|): worst measured 3.8e-6 (L1 stage 5: 1.78e-5 at
/// max |value| 4.67).
inline constexpr double kGoldenStageRelTol = 3e-5;
/// Logits against timm / the official code, max |diff|: worst measured 1.9e-6.
inline constexpr double kGoldenLogitAbsTol = 2e-5;
/// Logits of subnets sliced from the Fashion-MNIST supernets against PyTorch's
/// (tests/data/*-fmnist), max |diff| / max(1, max |logit|), with and without BN
/// recalibration: worst measured 8.0e-7.
inline constexpr double kSupernetLogitRelTol = 1e-5;
/// Recalibrated BatchNorm running statistics against PyTorch's, relative to the value floored
/// at 1 % of the tensor's largest: worst measured 1.2e-5 (efficientformer-fmnist m); the sums
/// over 512 images accumulate in a different order than PyTorch's.
inline constexpr double kBnStatisticRelTol = 1e-4;
/// ONNX Runtime running the exported model against the engine, max relative logit
/// difference: worst measured 1.4e-6 (elasticvit, 51 blocks).
inline constexpr double kOnnxRuntimeRelTol = 1e-5;
/// ONNX Runtime running the exported model against the reference implementation's logits,
/// max |diff|: worst measured 7.2e-7 (hiera_small).
inline constexpr double kOnnxGoldenLogitAbsTol = 1e-5;

}  // namespace hwnas::test
