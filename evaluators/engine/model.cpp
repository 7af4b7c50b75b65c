#include "evaluators/engine/model.h"

#include "core/error.h"
#include "evaluators/families/model_family.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::build(const Network& net, ParamReader& reader) {
  net.check_shapes();
  if (net.blocks.empty()) throw Error("network of space '" + net.space + "' has no blocks");
  Model m;
  m.net_ = net;
  const auto prefixes = param_prefixes(net);
  LayerLog log;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    reader.set_prefix(prefixes[i]);
    m.blocks_.push_back(make_block(net.blocks[i], reader));
    m.gemm_layer_blocks_.resize(log.made().gemm.size(), static_cast<int>(i));
    m.depthwise_layer_blocks_.resize(log.made().depthwise.size(), static_cast<int>(i));
  }
  reader.check_all_used();
  m.layers_ = std::move(log.made());
  m.training_bns_ = reader.training_batchnorms();
#if HWNAS_REFERENCE_KERNELS
  m.path_ = KernelPath::reference;
#endif
  return m;
}

bool Model::int8_gemm_layer(std::size_t index) const {
  return net_.block_int8.empty() ||
         net_.block_int8.at(static_cast<std::size_t>(gemm_layer_blocks_.at(index))) != 0;
}

bool Model::int8_depthwise_layer(std::size_t index) const {
  return net_.block_int8.empty() ||
         net_.block_int8.at(static_cast<std::size_t>(depthwise_layer_blocks_.at(index))) != 0;
}

QuantizableLayers Model::int8_layers() const {
  QuantizableLayers out;
  for (std::size_t i = 0; i < layers_.gemm.size(); ++i)
    if (int8_gemm_layer(i)) out.gemm.push_back(layers_.gemm[i]);
  for (std::size_t i = 0; i < layers_.depthwise.size(); ++i)
    if (int8_depthwise_layer(i)) out.depthwise.push_back(layers_.depthwise[i]);
  return out;
}

Model Model::random(const Network& net, std::uint64_t seed) {
  ParamReader reader = ParamReader::random(seed);
  return build(net, reader);
}

Model Model::from_weights(const Network& net, const WeightStore& weights) {
  ParamReader reader = ParamReader::from_store(weights);
  return build(net, reader);
}

Model Model::for_bn_recalibration(const Network& net, const WeightStore& weights) {
  ParamReader reader = ParamReader::from_store(weights);
  reader.keep_batchnorm_training();
  return build(net, reader);
}

WeightStore Model::batchnorm_statistics() const {
  WeightStore out;
  for (const auto& bn : training_bns_) bn->write_statistics(out);
  return out;
}

WeightStore Model::random_weights(const Network& net, std::uint64_t seed) {
  ParamReader reader = ParamReader::random(seed);
  build(net, reader);
  return reader.recorded();
}

void Model::prepare(int batch) {
  if (batch == batch_) return;
  acts_.resize(blocks_.size() - 1);
  for (std::size_t i = 0; i + 1 < blocks_.size(); ++i) {
    const FeatureShape o = block_output_shape(net_.blocks[i]);
    acts_[i].resize(batch, o.h, o.w, o.c);
  }
  for (auto& b : blocks_) b->reserve(batch);
  batch_ = batch;
}

void Model::run(const Tensor& input, Tensor& logits,
                const std::function<void(std::size_t, const Tensor&)>* visit) {
  const FeatureShape in = net_.input;
  if (input.n() < 1 || input.h() != in.h || input.w() != in.w || input.c() != in.c)
    throw Error("model input must be NHWC (B," + std::to_string(in.h) + "," + std::to_string(in.w) +
                "," + std::to_string(in.c) + "), got (" + std::to_string(input.n()) + "," +
                std::to_string(input.h()) + "," + std::to_string(input.w()) + "," +
                std::to_string(input.c()) + ")");
  prepare(input.n());
  const FeatureShape last = block_output_shape(net_.blocks.back());
  logits.resize(input.n(), last.h, last.w, last.c);
  const Tensor* cur = &input;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    Tensor& out = i + 1 < blocks_.size() ? acts_[i] : logits;
    if (path_ == KernelPath::fast)
      blocks_[i]->forward(*cur, out);
    else
      blocks_[i]->forward_reference(*cur, out);
    if (visit) (*visit)(i, out);
    cur = &out;
  }
}

void Model::forward(const Tensor& input_nhwc, Tensor& logits) { run(input_nhwc, logits, nullptr); }

Tensor Model::forward(const Tensor& input_nhwc) {
  Tensor logits;
  run(input_nhwc, logits, nullptr);
  return logits;
}

void Model::forward_trace(const Tensor& input_nhwc,
                          const std::function<void(std::size_t, const Tensor&)>& visit) {
  Tensor logits;
  run(input_nhwc, logits, &visit);
}

}  // namespace hwnas
