// Model: a Network with weights, executable on the CPU (NHWC fp32).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "evaluators/accuracy/training_batch_norm.h"
#include "evaluators/engine/block.h"
#include "evaluators/engine/tensor.h"
#include "evaluators/io/safetensors.h"
#include "evaluators/ops/layer_log.h"
#include "spaces/network.h"

namespace hwnas {

/// Which kernels Model::forward runs: the fused fast ones or the plain references
/// (HWNAS_REFERENCE_KERNELS=1 also routes the fast ones to the references).
enum class KernelPath { fast, reference };

class Model {
 public:
  /// Deterministic random weights drawn from Rng(seed) (scales in param_reader.h), the same for
  /// a seed on every platform. Throws hwnas::Error if the network is inconsistent.
  static Model random(const Network& net, std::uint64_t seed);
  /// Weights with the reference code's parameter names (param_prefixes of the network's model
  /// family: timm's for EfficientFormer and Hiera, microsoft/Moonlit's for ElasticViT) and PyTorch
  /// layouts (conv (out, in, k, k), linear (out, in)); BatchNorm is folded into the preceding
  /// convolution here. Throws hwnas::Error naming the first missing, mis-shaped or unexpected
  /// tensor.
  static Model from_weights(const Network& net, const WeightStore& weights);
  /// The timm-named tensors Model::random(net, seed) draws (for tests and exports).
  static WeightStore random_weights(const Network& net, std::uint64_t seed);
  /// The model BN recalibration runs (bn_recalibration.h): as from_weights, but every BatchNorm
  /// stays explicit and in training mode (ParamReader::keep_batchnorm_training), normalising
  /// with each forward's batch statistics and summing them. Same errors as from_weights.
  static Model for_bn_recalibration(const Network& net, const WeightStore& weights);
  /// The re-estimated `<bn>.running_mean` / `<bn>.running_var` of a for_bn_recalibration model
  /// over the forwards run so far (PyTorch momentum=None); empty for a network without BN.
  /// Throws hwnas::Error if no forward ran.
  WeightStore batchnorm_statistics() const;

  /// input (B, H, W, C) NHWC matching network().input (C = 3 for RGB spaces, 1 for the
  /// Fashion-MNIST ones); logits (B, 1, 1, classes), resized if
  /// needed. Activation buffers are allocated on the first call of a batch size; later calls
  /// do not allocate (apart from a TBB worker's first use of its small per-thread im2col /
  /// pooling scratch, which warm-up calls absorb). Not thread-safe: one forward at a time per
  /// Model. Throws hwnas::Error on an input of the wrong shape.
  void forward(const Tensor& input_nhwc, Tensor& logits);
  /// Convenience: returns the logits (B, 1, 1, classes).
  Tensor forward(const Tensor& input_nhwc);
  /// Runs every block and hands its output (NHWC, valid during the call) to `visit` with the
  /// block index; for locating mismatches against per-stage golden outputs.
  void forward_trace(const Tensor& input_nhwc,
                     const std::function<void(std::size_t, const Tensor&)>& visit);

  const Network& network() const { return net_; }
  /// The weights of every GEMM layer (linear, 1x1 and im2col convolutions) in the order the
  /// blocks packed them, including packings a fast path leaves unused; int8 quantization
  /// (evaluators/quant/) attaches itself to them.
  const std::vector<PackedWeights>& gemm_layers() const { return layers_.gemm; }
  /// Every depthwise convolution layer, in the order the blocks made them (their execution
  /// order: a block runs at most one, ElasticViT's MBConv or its attention's depthwise over V).
  const std::vector<DepthwiseLayer>& depthwise_layers() const { return layers_.depthwise; }
  /// The block (index into network().blocks) that packed each of gemm_layers().
  const std::vector<int>& gemm_layer_blocks() const { return gemm_layer_blocks_; }
  /// The layers int8 applies to: those of the blocks network().block_int8 marks, or all of
  /// them when it is empty (a network without precision genes).
  QuantizableLayers int8_layers() const;
  /// Whether gemm_layers()[index] is one of int8_layers().gemm.
  bool int8_gemm_layer(std::size_t index) const;
  /// Whether depthwise_layers()[index] is one of int8_layers().depthwise.
  bool int8_depthwise_layer(std::size_t index) const;
  void set_kernel_path(KernelPath path) { path_ = path; }
  KernelPath kernel_path() const { return path_; }

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

 private:
  Model() = default;
  static Model build(const Network& net, ParamReader& reader);
  void prepare(int batch);
  void run(const Tensor& input, Tensor& logits,
           const std::function<void(std::size_t, const Tensor&)>* visit);

  Network net_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<std::shared_ptr<TrainingBatchNorm>> training_bns_;  // for_bn_recalibration only
  std::vector<Tensor> acts_;  // output of each block but the last
  QuantizableLayers layers_;
  std::vector<int> gemm_layer_blocks_, depthwise_layer_blocks_;
  int batch_ = 0;
  KernelPath path_ = KernelPath::fast;
};

}  // namespace hwnas
