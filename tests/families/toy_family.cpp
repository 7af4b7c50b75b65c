#include "tests/families/toy_family.h"

#include <memory>
#include <mutex>

#include "core/error.h"
#include "evaluators/ops/conv2d.h"
#include "evaluators/ops/linear.h"
#include "evaluators/ops/mean_tokens.h"
#include "results/family_registration.h"
#include "results/onnx/graph_builder.h"
#include "spaces/search_space.h"

namespace hwnas::test {
namespace {

bool is_kind(const BlockSpec& s, std::string_view name) { return block_kind_name(s.kind) == name; }

// conv3x3, stride 1, pad 1, with bias, then ReLU: "conv.weight" (c, cin, 3, 3), "conv.bias" (c).
class ToyConvBlock final : public Block {
 public:
  ToyConvBlock(const BlockSpec& spec, ParamReader& r)
      : Block(spec),
        p_{spec.get("cin"), spec.get("c"), 3, 1, 1, Activation::relu},
        conv_(read_conv(r, "conv", p_.cin, p_.cout, 3)) {}
  void forward(const Tensor& in, Tensor& out) override {
    conv2d(p_, in, conv_.packed, conv_.bias.data(), out);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    conv2d_reference(p_, in, conv_.weight.data(), conv_.bias.data(), out);
  }

 private:
  Conv2dParams p_;
  FoldedConv conv_;
};

// Mean over the h*w positions, then Linear c -> classes: "fc.weight" (classes, c), "fc.bias".
class ToyHeadBlock final : public Block {
 public:
  ToyHeadBlock(const BlockSpec& spec, ParamReader& r)
      : Block(spec),
        p_{spec.get("c"), spec.get("classes"), Activation::none},
        fc_(read_linear(r, "fc", p_.in, p_.out)) {}
  void forward(const Tensor& in, Tensor& out) override {
    pooled_.resize(in.n(), 1, 1, p_.in);
    mean_tokens(in, pooled_);
    linear(p_, pooled_, fc_.packed, fc_.bias_or_null(), nullptr, out);
  }
  void run_reference(const Tensor& in, Tensor& out) override {
    pooled_.resize(in.n(), 1, 1, p_.in);
    mean_tokens_reference(in, pooled_);
    linear_reference(p_, pooled_, fc_.weight.data(), fc_.bias_or_null(), nullptr, out);
  }

 private:
  LinearParams p_;
  LinearWeights fc_;
  Tensor pooled_;
};

std::unique_ptr<Block> make_toy_block(const BlockSpec& spec, ParamReader& r) {
  if (is_kind(spec, "toy_conv")) return std::make_unique<ToyConvBlock>(spec, r);
  if (is_kind(spec, "toy_head")) return std::make_unique<ToyHeadBlock>(spec, r);
  throw Error("toy family: not a toy block: " + spec.key());
}

// "layers.i." for the convolutions, "head." for the classifier (a PyTorch nn.Sequential).
std::vector<std::string> toy_param_prefixes(const Network& net) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < net.blocks.size(); ++i)
    out.push_back(is_kind(net.blocks[i], "toy_head") ? "head."
                                                     : "layers." + std::to_string(i) + ".");
  return out;
}

std::string lower_toy(onnx_export::GraphBuilder& b, const BlockSpec& s, const std::string& prefix,
                      const std::string& x) {
  using namespace onnx_export;
  if (is_kind(s, "toy_conv"))
    return b.op("Relu", {conv(b, x, prefix + "conv", s.get("cin"), s.get("c"), 3, 1, 1, 1, true)});
  return linear(b, reduce_mean(b, x, {2, 3}, false), prefix + "fc", s.get("c"), s.get("classes"));
}

class ToySpace final : public SearchSpace {
 public:
  const std::string& name() const override { return name_; }
  const std::string& summary() const override { return summary_; }
  const std::vector<Dim>& dims() const override { return dims_; }
  Arch sample(Rng& rng) const override {
    Arch a{name_, {}};
    for (const auto& d : dims_)
      a.genes.push_back(d.options[static_cast<std::size_t>(
          uniform_int(rng, 0, static_cast<int>(d.options.size()) - 1))]);
    return a;
  }
  void repair(Arch&) const override {}
  Network decode(const Arch& a) const override {
    validate(a);
    const int depth = a.genes[0], width = a.genes[1], res = a.genes[2];
    Network net{name_, {res, res, 1}, {}, {}};
    for (int i = 0; i < depth; ++i)
      net.blocks.push_back(conv_block(i == 0 ? 1 : width, width, res));
    net.blocks.push_back(head_block(width, res));
    return net;
  }
  void validate(const Arch& a) const override {
    if (a.space != name_ || a.genes.size() != dims_.size())
      throw Error("arch does not belong to space '" + name_ + "'");
    for (std::size_t d = 0; d < dims_.size(); ++d) {
      const auto& o = dims_[d].options;
      if (std::find(o.begin(), o.end(), a.genes[d]) == o.end())
        throw Error("space '" + name_ + "': " + dims_[d].name + " " + std::to_string(a.genes[d]) +
                    " is not an option");
    }
  }
  std::vector<BlockSpec> enumerate_blocks(int res) const override {
    const auto& r = dims_[2].options;
    if (std::find(r.begin(), r.end(), res) == r.end())
      throw Error("space '" + name_ + "': resolution " + std::to_string(res) + " not allowed");
    std::vector<BlockSpec> out;
    for (int w : dims_[1].options) {
      out.push_back(conv_block(1, w, res));
      out.push_back(conv_block(w, w, res));
      out.push_back(head_block(w, res));
    }
    return out;
  }
  const std::vector<std::pair<std::string, Arch>>& named() const override { return named_; }
  Arch largest() const override { return {name_, {3, 12, 12}}; }
  Arch smallest() const override { return {name_, {1, 4, 8}}; }
  nlohmann::json to_json(const Arch& a) const override {
    nlohmann::json j{{"space", name_}};
    for (std::size_t d = 0; d < dims_.size(); ++d) j[dims_[d].name] = a.genes.at(d);
    return j;
  }
  Arch from_json(const nlohmann::json& j) const override {
    Arch a{name_, {}};
    for (const auto& d : dims_) {
      if (!j.contains(d.name) || !j.at(d.name).is_number_integer())
        throw Error("toy arch JSON lacks the integer '" + d.name + "'");
      a.genes.push_back(j.at(d.name).get<int>());
    }
    validate(a);
    return a;
  }

 private:
  BlockSpec conv_block(int cin, int c, int res) const {
    return BlockSpec::make(conv_kind_, {cin, c, res, res});
  }
  BlockSpec head_block(int c, int res) const {
    return BlockSpec::make(head_kind_, {c, res, res, kToyClasses});
  }

  std::string name_ = kToySpace;
  std::string summary_ = "toy CNN family of the tests (tests/families)";
  std::vector<Dim> dims_ = {{"depth", {1, 2, 3}}, {"width", {4, 8, 12}}, {"resolution", {8, 12}}};
  std::vector<std::pair<std::string, Arch>> named_ = {{"small", {kToySpace, {1, 4, 8}}},
                                                      {"large", {kToySpace, {3, 12, 12}}}};
  BlockKind conv_kind_ = block_kind_from_name("toy_conv");
  BlockKind head_kind_ = block_kind_from_name("toy_head");
};

FeatureShape same_map(const BlockSpec& s) { return {s.get("h"), s.get("w"), s.get("c")}; }

}  // namespace

void register_toy_family() {
  static std::once_flag once;
  std::call_once(once, [] {
    FamilyRegistration f;
    f.engine = ModelFamily{"toy", make_toy_block, toy_param_prefixes, nullptr};
    BlockKindDef conv{"toy_conv", "", {"cin", "c", "h", "w"}, nullptr, nullptr, nullptr};
    conv.input_shape = [](const BlockSpec& s) {
      return FeatureShape{s.get("h"), s.get("w"), s.get("cin")};
    };
    conv.output_shape = same_map;
    conv.cost = [](const BlockSpec& s) {
      const std::int64_t cin = s.get("cin"), c = s.get("c"),
                         hw = std::int64_t{s.get("h")} * s.get("w");
      if (cin <= 0 || c <= 0 || hw <= 0)
        throw Error("block '" + s.key() + "': sizes must be positive");
      return BlockCost{cin * 9 * c + c, hw * c * cin * 9};
    };
    BlockKindDef head{"toy_head", "", {"c", "h", "w", "classes"}, same_map, nullptr, nullptr};
    head.output_shape = [](const BlockSpec& s) { return FeatureShape{1, 1, s.get("classes")}; };
    head.cost = [](const BlockSpec& s) {
      const std::int64_t c = s.get("c"), k = s.get("classes");
      if (c <= 0 || k <= 0) throw Error("block '" + s.key() + "': sizes must be positive");
      return BlockCost{c * k + k, c * k};
    };
    f.kinds = {conv, head};
    f.spaces = {{kToySpace, [] { return std::make_unique<ToySpace>(); }}};
    f.onnx.lower = lower_toy;
    f.onnx.input_layout = [](const BlockSpec&) { return onnx_export::Layout::map; };
    f.onnx.output_layout = [](const BlockSpec& s) {
      return is_kind(s, "toy_head") ? onnx_export::Layout::tokens : onnx_export::Layout::map;
    };
    register_family(std::move(f));
  });
}

std::vector<double> toy_reference_logits(const Network& net, const WeightStore& weights,
                                         const std::vector<float>& x, int batch) {
  const auto prefixes = toy_param_prefixes(net);
  int h = net.input.h, w = net.input.w, c = net.input.c;
  std::vector<double> act(x.begin(), x.end());  // NHWC
  std::vector<double> logits;
  for (std::size_t i = 0; i < net.blocks.size(); ++i) {
    const BlockSpec& s = net.blocks[i];
    if (is_kind(s, "toy_conv")) {
      const auto& wt = weights.at(prefixes[i] + "conv.weight").data;  // (co, ci, 3, 3)
      const auto& bias = weights.at(prefixes[i] + "conv.bias").data;
      const int co = s.get("c");
      std::vector<double> out(static_cast<std::size_t>(batch) * h * w * co);
      for (int n = 0; n < batch; ++n)
        for (int y = 0; y < h; ++y)
          for (int xx = 0; xx < w; ++xx)
            for (int o = 0; o < co; ++o) {
              double sum = bias[static_cast<std::size_t>(o)];
              for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx) {
                  const int sy = y + ky - 1, sx = xx + kx - 1;
                  if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                  for (int ci = 0; ci < c; ++ci)
                    sum += wt[static_cast<std::size_t>(((o * c + ci) * 3 + ky) * 3 + kx)] *
                           act[static_cast<std::size_t>(((n * h + sy) * w + sx) * c + ci)];
                }
              out[static_cast<std::size_t>(((n * h + y) * w + xx) * co + o)] = std::max(0.0, sum);
            }
      act = std::move(out);
      c = co;
    } else {
      const auto& wt = weights.at(prefixes[i] + "fc.weight").data;  // (classes, c)
      const auto& bias = weights.at(prefixes[i] + "fc.bias").data;
      const int k = s.get("classes");
      for (int n = 0; n < batch; ++n)
        for (int o = 0; o < k; ++o) {
          double sum = bias[static_cast<std::size_t>(o)];
          for (int ci = 0; ci < c; ++ci) {
            double mean = 0;
            for (int p = 0; p < h * w; ++p)
              mean += act[static_cast<std::size_t>((n * h * w + p) * c + ci)];
            sum += wt[static_cast<std::size_t>(o * c + ci)] * mean / (h * w);
          }
          logits.push_back(sum);
        }
    }
  }
  return logits;
}

}  // namespace hwnas::test
