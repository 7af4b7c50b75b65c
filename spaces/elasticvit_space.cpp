#include "spaces/elasticvit_space.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {
namespace {

int ceil_half(int x) { return (x + 1) / 2; }

// Smallest option >= floor (options are increasing); the last option if none is.
int smallest_at_least(const std::vector<int>& options, int floor) {
  for (int v : options)
    if (v >= floor) return v;
  return options.back();
}

// Options of `opts` that are >= floor (non-empty for every floor the space produces).
std::vector<int> at_least(const std::vector<int>& opts, int floor) {
  std::vector<int> out;
  for (int v : opts)
    if (v >= floor) out.push_back(v);
  return out;
}

}  // namespace

ElasticVitSpace::ElasticVitSpace(std::string_view definition_name)
    : DefinedSpace(definition_name, kGenes, "ElasticViT") {
  load_named();
}

ElasticVitConfig ElasticVitSpace::config(const Arch& a) {
  if (a.genes.size() != kGenes)
    throw Error("elasticvit arch needs " + std::to_string(kGenes) + " genes, got " +
                std::to_string(a.genes.size()));
  ElasticVitConfig c;
  const auto g = [&](std::size_t i) { return a.genes[i]; };
  c.resolution = g(kResolution);
  for (std::size_t i = 0; i < 7; ++i) c.widths[i] = g(kWidth + i), c.depths[i] = g(kDepth + i);
  for (std::size_t i = 0; i < 3; ++i) c.kernel[i] = g(kKernel + i);
  for (std::size_t i = 0; i < 2; ++i) c.expand[i] = g(kExpand + i);
  for (std::size_t i = 0; i < 4; ++i) c.mlp_ratio[i] = g(kMlp + i), c.v_scale[i] = g(kVScale + i);
  return c;
}

Arch ElasticVitSpace::arch(const ElasticVitConfig& c) const {
  Arch a{def_.name, {}};
  a.genes.push_back(c.resolution);
  a.genes.insert(a.genes.end(), c.widths.begin(), c.widths.end());
  a.genes.insert(a.genes.end(), c.depths.begin(), c.depths.end());
  a.genes.insert(a.genes.end(), c.kernel.begin(), c.kernel.end());
  a.genes.insert(a.genes.end(), c.expand.begin(), c.expand.end());
  a.genes.insert(a.genes.end(), c.mlp_ratio.begin(), c.mlp_ratio.end());
  a.genes.insert(a.genes.end(), c.v_scale.begin(), c.v_scale.end());
  validate(a);
  return a;
}

Arch ElasticVitSpace::sample(Rng& rng) const {
  // As the code's arch_sampling_engine: every choice uniform, and a width drawn below the
  // previous stage's is redrawn, i.e. uniform over the options >= the previous width.
  Arch a{def_.name, std::vector<int>(kGenes)};
  for (std::size_t i = 0; i < kGenes; ++i) {
    const auto& opts = def_.dims[i].options;
    if (i > kWidth && i < kWidth + 7)
      a.genes[i] = pick_option(rng, at_least(opts, a.genes[i - 1]));
    else
      a.genes[i] = pick_option(rng, opts);
  }
  return a;
}

void ElasticVitSpace::repair(Arch& a) const {
  // Raise a width that fell below its predecessor's to the smallest legal width above it.
  for (std::size_t i = kWidth + 1; i < kWidth + 7; ++i)
    if (a.genes[i] < a.genes[i - 1])
      a.genes[i] = smallest_at_least(def_.dims[i].options, a.genes[i - 1]);
}

void ElasticVitSpace::validate(const Arch& a) const {
  check_genes(a);
  for (std::size_t i = 1; i < 7; ++i)
    if (a.genes[kWidth + i] < a.genes[kWidth + i - 1])
      throw Error(def_.name + ": widths must not decrease from stage to stage, but " +
                  kStageNames[i] + " has " + std::to_string(a.genes[kWidth + i]) + " < " +
                  kStageNames[i - 1] + "'s " + std::to_string(a.genes[kWidth + i - 1]) + "; give " +
                  kStageNames[i] + " a width >= " + std::to_string(a.genes[kWidth + i - 1]));
}

Network ElasticVitSpace::decode(const Arch& a) const {
  validate(a);
  const ElasticVitConfig c = config(a);
  const int head_dim = def_.fixed_int("head_dim"), entry_e = def_.fixed_int("entry_expand");
  const int entry_k = def_.fixed_int("entry_kernel");
  Network net;
  net.space = def_.name;
  net.input = {c.resolution, c.resolution, def_.fixed_int("in_channels")};
  net.blocks.push_back(BlockSpec{BlockKind::evit_first_conv,
                                 {net.input.c, c.widths[0], c.resolution, c.resolution}});
  int h = ceil_half(c.resolution);
  for (int b = 0; b < c.depths[0]; ++b)
    net.blocks.push_back(
        BlockSpec{BlockKind::evit_mbconv, {c.widths[0], c.widths[0], h, h, 1, c.kernel[0], 1, 0}});
  int cin = c.widths[0];
  for (int s = 1; s <= 2; ++s) {  // C1 (no SE), C2 (SE); block 0 has stride 2
    const int w = c.widths[s], e = c.expand[s - 1], k = c.kernel[s], se = s == 2 ? 1 : 0;
    for (int b = 0; b < c.depths[s]; ++b) {
      const int stride = b == 0 ? 2 : 1;
      net.blocks.push_back(
          BlockSpec{BlockKind::evit_mbconv, {b == 0 ? cin : w, w, h, h, e, k, stride, se}});
      if (b == 0) h = ceil_half(h);
    }
    cin = w;
  }
  for (int t = 0; t < 4; ++t) {
    const int w = c.widths[3 + t], stride = t == 1 ? 1 : 2;  // T2 keeps the grid
    net.blocks.push_back(
        BlockSpec{BlockKind::evit_mbconv, {cin, w, h, h, entry_e, entry_k, stride, 1}});
    h = (h + stride - 1) / stride;
    for (int b = 0; b < c.depths[3 + t]; ++b) {
      net.blocks.push_back(
          BlockSpec{BlockKind::evit_attention, {w, h, h, w / head_dim, c.v_scale[t]}});
      net.blocks.push_back(BlockSpec{BlockKind::evit_ffn, {w, h, h, c.mlp_ratio[t]}});
    }
    cin = w;
  }
  net.blocks.push_back(BlockSpec{BlockKind::evit_head,
                                 {cin, h, h, def_.fixed_int("classifier_mul"),
                                  def_.fixed_int("head_feat"), def_.fixed_int("num_classes")}});
  return net;
}

double ElasticVitSpace::reference_mflops(const Arch& a) const {
  validate(a);
  return reference_mflops(config(a), def_.fixed_int("in_channels"), def_.fixed_int("head_feat"),
                          def_.fixed_int("num_classes"));
}

double ElasticVitSpace::reference_mflops(const ElasticVitConfig& c, int in_channels, int head_feat,
                                         int num_classes) {
  // FusedSuperNet.compute_flops() term by term (golden/elasticvit_blocks.md, last section).
  using i64 = std::int64_t;
  const i64 r2 = c.resolution / 2;
  const i64 c0 = c.widths[0];
  i64 f = 9 * i64{in_channels} * c0 * r2 * r2 +
          (c0 * r2 * r2 * c.kernel[0] * c.kernel[0] + c0 * c0 * r2 * r2) * c.depths[0];
  i64 g = r2, cin = c0;
  for (int s = 1; s <= 2; ++s) {
    g /= 2;
    const i64 w = c.widths[s], k = c.kernel[s];
    for (int b = 0; b < c.depths[s]; ++b) {
      const i64 ci = b == 0 ? cin : w, e = ci * c.expand[s - 1];
      const i64 gin = b == 0 ? 2 * g : g;  // the expand conv runs at the input size
      f += ci * e * gin * gin + e * k * k * g * g + e * w * g * g;
      if (s == 2) f += 2 * e * (e / 4);  // SE in C2
      if (b == 0) f += ci * w * g * g;   // 1x1 shortcut, counted even when none runs
    }
    cin = w;
  }
  i64 n = 0, w = cin;
  for (int t = 0; t < 4; ++t) {
    const bool down = t != 1;
    if (down) g = (g + 1) / 2;
    w = c.widths[3 + t];
    n = g * g;
    const i64 heads = w / 16, dq = 16, dv = 16 * i64{c.v_scale[t]}, m = c.mlp_ratio[t];
    const i64 gin = down ? 2 * g : g;  // (2G)^2 even when the real input was odd
    f += cin * 6 * cin * gin * gin + 6 * cin * 9 * g * g + 6 * cin * w * g * g;
    f += c.depths[3 + t] * (heads * n * n * (dq + dv + 1) + w * n * heads * (2 * dq + dv) +
                            n * heads * dv * w + n * heads * dv + 2 * m * w * w * n);
    cin = w;
  }
  f += 6 * w * w * n + 6 * w * head_feat + i64{head_feat} * num_classes;
  return static_cast<double>(f) / 1e6;
}

nlohmann::json ElasticVitSpace::extra_metrics(const Arch& a) const {
  return {{"reference_mflops", reference_mflops(a)}};
}

std::vector<BlockSpec> ElasticVitSpace::enumerate_blocks(int r) const {
  if (option_index(kResolution, r) < 0)
    throw Error(def_.name + ": resolution " + std::to_string(r) +
                " is not in the space; choose from " +
                describe_options(def_.dims[kResolution].options));
  const int head_dim = def_.fixed_int("head_dim"), entry_e = def_.fixed_int("entry_expand");
  const int entry_k = def_.fixed_int("entry_kernel");
  const auto& d = def_.dims;
  std::set<std::string> seen;
  std::vector<BlockSpec> out;
  auto add = [&](BlockSpec b) {
    if (seen.insert(b.key()).second) out.push_back(std::move(b));
  };
  const auto& kernels = [&](std::size_t s) -> const std::vector<int>& {
    return d[kKernel + s].options;
  };
  int h = ceil_half(r);
  for (int w : d[kWidth].options) {
    add(BlockSpec{BlockKind::evit_first_conv, {def_.fixed_int("in_channels"), w, r, r}});
    for (int k : kernels(0)) add(BlockSpec{BlockKind::evit_mbconv, {w, w, h, h, 1, k, 1, 0}});
  }
  for (std::size_t s = 1; s <= 2; ++s) {
    const int se = s == 2 ? 1 : 0;
    for (int w : d[kWidth + s].options)
      for (int e : d[kExpand + s - 1].options)
        for (int k : kernels(s)) {
          for (int cin : d[kWidth + s - 1].options)
            if (cin <= w) add(BlockSpec{BlockKind::evit_mbconv, {cin, w, h, h, e, k, 2, se}});
          add(BlockSpec{BlockKind::evit_mbconv, {w, w, ceil_half(h), ceil_half(h), e, k, 1, se}});
        }
    h = ceil_half(h);
  }
  for (std::size_t t = 0; t < 4; ++t) {
    const int stride = t == 1 ? 1 : 2;
    const int ho = (h + stride - 1) / stride;
    for (int w : d[kWidth + 3 + t].options) {
      for (int cin : d[kWidth + 2 + t].options)
        if (cin <= w)
          add(BlockSpec{BlockKind::evit_mbconv, {cin, w, h, h, entry_e, entry_k, stride, 1}});
      for (int v : d[kVScale + t].options)
        add(BlockSpec{BlockKind::evit_attention, {w, ho, ho, w / head_dim, v}});
      for (int m : d[kMlp + t].options) add(BlockSpec{BlockKind::evit_ffn, {w, ho, ho, m}});
    }
    h = ho;
  }
  for (int w : d[kWidth + 6].options)
    add(BlockSpec{BlockKind::evit_head,
                  {w, h, h, def_.fixed_int("classifier_mul"), def_.fixed_int("head_feat"),
                   def_.fixed_int("num_classes")}});
  return out;
}

Arch ElasticVitSpace::largest() const { return at_last_options(); }

Arch ElasticVitSpace::smallest() const { return at_first_options(); }

nlohmann::json ElasticVitSpace::to_json(const Arch& a) const {
  const ElasticVitConfig c = config(a);
  const int head_dim = def_.fixed_int("head_dim");
  std::vector<int> heads;
  for (int t = 0; t < 4; ++t) heads.push_back(c.widths[3 + t] / head_dim);
  return {{"space", def_.name},       {"resolution", c.resolution}, {"widths", c.widths},
          {"depths", c.depths},       {"kernel", c.kernel},         {"expand", c.expand},
          {"mlp_ratio", c.mlp_ratio}, {"v_scale", c.v_scale},       {"heads", heads}};
}

Arch ElasticVitSpace::from_json(const nlohmann::json& j) const {
  const std::string what = def_.name + " arch JSON";
  require_only_keys(j,
                    {"space", "resolution", "widths", "depths", "kernel", "expand", "mlp_ratio",
                     "v_scale", "heads"},
                    what);
  const std::string space = require_string(require_key(j, "space", what), what + ".space");
  if (space != def_.name)
    throw Error(what + ": \"space\" is '" + space + "', expected '" + def_.name + "'");
  ElasticVitConfig c;
  c.resolution = require_int(require_key(j, "resolution", what), what + ".resolution");
  const auto copy = [&](const char* key, auto& dst) {
    const auto v =
        require_int_array(require_key(j, key, what), static_cast<int>(dst.size()),
                          what + "." + key + " (" + std::to_string(dst.size()) + " integers)");
    std::copy(v.begin(), v.end(), dst.begin());
  };
  copy("widths", c.widths);
  copy("depths", c.depths);
  copy("kernel", c.kernel);
  copy("expand", c.expand);
  copy("mlp_ratio", c.mlp_ratio);
  copy("v_scale", c.v_scale);
  const Arch a = arch(c);
  if (j.contains("heads")) {
    const auto heads = require_int_array(j.at("heads"), 4, what + ".heads (4 integers, T1..T4)");
    const int head_dim = def_.fixed_int("head_dim");
    for (int t = 0; t < 4; ++t)
      if (heads[t] * head_dim != c.widths[3 + t])
        throw Error(what + ".heads[" + std::to_string(t) + "] = " + std::to_string(heads[t]) +
                    " disagrees with the width " + std::to_string(c.widths[3 + t]) +
                    " (heads = width / 16); drop \"heads\" or give " +
                    std::to_string(c.widths[3 + t] / head_dim));
  }
  return a;
}

nlohmann::json ElasticVitSpace::export_config(const Arch& a) const {
  validate(a);
  const ElasticVitConfig c = config(a);
  const int head_dim = def_.fixed_int("head_dim");
  std::vector<int> ratios, kernels, mlp, heads, window, qk, v;
  for (int s = 0; s < 3; ++s)
    for (int b = 0; b < c.depths[s]; ++b) {
      ratios.push_back(s == 0 ? 1 : c.expand[s - 1]);
      kernels.push_back(c.kernel[s]);
    }
  for (int t = 0; t < 4; ++t)
    for (int b = 0; b < c.depths[3 + t]; ++b) {
      mlp.push_back(c.mlp_ratio[t]);
      heads.push_back(c.widths[3 + t] / head_dim);
      window.push_back(1);
      qk.push_back(1);
      v.push_back(c.v_scale[t]);
    }
  return {{"model", "microsoft/Moonlit ElasticViT FusedSuperNet (configs/final_3min_space.yaml)"},
          {"arch_list_fields",
           {"res", "channels", "depths", "conv_ratio per conv layer (stem first)",
            "kernel per conv layer", "mlp_ratio per T block", "num_heads per T block",
            "window per T block", "qk_scale per T block", "v_scale per T block"}},
          {"arch_list",
           {c.resolution, c.widths, c.depths, ratios, kernels, mlp, heads, window, qk, v}}};
}

}  // namespace hwnas
