#include "evaluators/engine/model.h"

#include "core/error.h"
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/blocks/hiera_names.h"
#include "evaluators/runtime/thread_scope.h"

namespace hwnas {

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

std::vector<std::string> timm_prefixes(const Network& net) {
  if (!net.blocks.empty() && net.blocks.front().kind == BlockKind::hiera_patch_embed)
    return hiera_param_prefixes(net);  // TurboViT-style space and timm Hiera networks
  std::vector<std::string> out;
  int stage = 0, index = 0;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const std::string st = "stages." + std::to_string(stage) + ".";
    switch (net.blocks[i].kind) {
      case BlockKind::stem:
        out.push_back("stem.");
        break;
      case BlockKind::downsample:
        ++stage;
        index = 0;
        out.push_back("stages." + std::to_string(stage) + ".downsample.");
        break;
      case BlockKind::meta4d:
      case BlockKind::meta3d:
        out.push_back(st + "blocks." + std::to_string(index++) + ".");
        break;
      case BlockKind::flatten:
        // timm's Flat module takes a `blocks` index only when attention blocks follow it.
        out.push_back(st + "blocks." + std::to_string(index) + ".");
        if (i + 1 < net.blocks.size() && net.blocks[i + 1].kind == BlockKind::meta3d) ++index;
        break;
      case BlockKind::head:
        out.push_back("");
        break;
      case BlockKind::evit_first_conv:
      case BlockKind::evit_mbconv:
      case BlockKind::evit_attention:
      case BlockKind::evit_ffn:
      case BlockKind::evit_head:
      case BlockKind::hiera_patch_embed:
      case BlockKind::hiera_block:
      case BlockKind::hiera_head:
        out.push_back("");
        break;  // other spaces' kinds: make_block reports them
    }
  }
  return out;
}

std::vector<std::string> param_prefixes(const Network& net) {
  // ElasticViT and its proxies (elasticvit-fmnist) start with the first conv.
  if (!net.blocks.empty() && net.blocks.front().kind == BlockKind::evit_first_conv)
    return elasticvit_param_prefixes(net);
  return timm_prefixes(net);
}

Model Model::build(const Network& net, ParamReader& reader) {
  net.check_shapes();
  if (net.blocks.empty()) throw Error("network of space '" + net.space + "' has no blocks");
  Model m;
  m.net_ = net;
  const auto prefixes = param_prefixes(net);
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    reader.set_prefix(prefixes[i]);
    m.blocks_.push_back(make_block(net.blocks[i], reader));
  }
  reader.check_all_used();
  m.training_bns_ = reader.training_batchnorms();
#if HWNAS_REFERENCE_KERNELS
  m.path_ = KernelPath::reference;
#endif
  return m;
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
