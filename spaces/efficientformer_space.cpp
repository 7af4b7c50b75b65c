#include "spaces/efficientformer_space.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {
namespace {

int conv3x3_s2(int x) { return (x + 1) / 2; }

}  // namespace

EfficientFormerSpace::EfficientFormerSpace(std::string_view definition_name)
    : DefinedSpace(definition_name, kGenes, "EfficientFormer") {
  load_named();
}

Arch EfficientFormerSpace::sample(Rng& rng) const {
  Arch a{def_.name, std::vector<int>(kGenes)};
  for (std::size_t i = 0; i < kGenes; ++i) {
    if (i == kNumVit) continue;
    a.genes[i] = pick_option(rng, def_.dims[i].options);
  }
  // Uniform over the MB3D counts legal for the drawn stage-4 depth (the num_vit options up to
  // depth3), rather than clamping a draw over all options, which would pile mass on
  // num_vit == depth3. The options are increasing, so the legal ones are a prefix.
  const auto& vit = def_.dims[kNumVit].options;
  const auto legal = std::upper_bound(vit.begin(), vit.end(), a.genes[kDepth0 + 3]) - vit.begin();
  a.genes[kNumVit] =
      vit[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(legal) - 1))];
  return a;
}

void EfficientFormerSpace::repair(Arch& arch) const {
  arch.genes[kNumVit] = std::min(arch.genes[kNumVit], arch.genes[kDepth0 + 3]);
}

void EfficientFormerSpace::check_resolution(int r) const {
  const auto& allowed = def_.resolution_allowed;
  if (std::find(allowed.begin(), allowed.end(), r) == allowed.end())
    throw Error("efficientformer: resolution " + std::to_string(r) +
                " is not allowed; use a multiple of 32 in [" + std::to_string(allowed.front()) +
                ", " + std::to_string(allowed.back()) + "] (searched: 224)");
}

void EfficientFormerSpace::validate(const Arch& a) const {
  check_genes(a, kResolution);
  check_resolution(a.genes[kResolution]);
  if (a.genes[kNumVit] > a.genes[kDepth0 + 3])
    throw Error("efficientformer: num_vit = " + std::to_string(a.genes[kNumVit]) +
                " exceeds the stage-4 depth " + std::to_string(a.genes[kDepth0 + 3]) +
                "; the MB3D blocks are the last blocks of stage 4");
}

Network EfficientFormerSpace::decode(const Arch& a) const {
  validate(a);
  const int r = a.genes[kResolution];
  const int mlp = def_.fixed_int("mlp_ratio"), pool = def_.fixed_int("pool_size");
  const int heads = def_.fixed_int("heads"), kd = def_.fixed_int("key_dim");
  const int ar = def_.fixed_int("attn_ratio");
  Network net;
  net.space = def_.name;
  net.input = {r, r, def_.fixed_int("stem_in_channels")};
  net.blocks.reserve(48);
  const int* width = &a.genes[kWidth0];
  const int* depth = &a.genes[kDepth0];
  const int num_vit = a.genes[kNumVit];
  net.blocks.push_back(BlockSpec{BlockKind::stem, {net.input.c, width[0], r, r}});
  int h = conv3x3_s2(conv3x3_s2(r)), w = h;
  for (int s = 0; s < 4; ++s) {
    if (s > 0) {
      net.blocks.push_back(BlockSpec{BlockKind::downsample, {width[s - 1], width[s], h, w}});
      h = conv3x3_s2(h);
      w = conv3x3_s2(w);
    }
    const int n4d = s == 3 ? depth[s] - num_vit : depth[s];
    for (int b = 0; b < n4d; ++b)
      net.blocks.push_back(BlockSpec{BlockKind::meta4d, {width[s], h, w, pool, mlp}});
  }
  const int c = width[3];
  net.blocks.push_back(BlockSpec{BlockKind::flatten, {c, h, w}});
  for (int b = 0; b < num_vit; ++b)
    net.blocks.push_back(BlockSpec{BlockKind::meta3d, {c, h, w, heads, kd, ar, mlp}});
  net.blocks.push_back(BlockSpec{
      BlockKind::head, {c, h * w, def_.fixed_int("num_classes"), def_.fixed_int("distillation")}});
  return net;
}

std::vector<BlockSpec> EfficientFormerSpace::enumerate_blocks(int r) const {
  check_resolution(r);
  // Decode an arch per stage-width combination that matters for each block kind; a set keeps
  // the result unique and in a deterministic (sorted by key) order.
  const int mlp = def_.fixed_int("mlp_ratio"), pool = def_.fixed_int("pool_size");
  const int heads = def_.fixed_int("heads"), kd = def_.fixed_int("key_dim");
  const int ar = def_.fixed_int("attn_ratio");
  std::vector<int> hs{conv3x3_s2(conv3x3_s2(r))};
  for (int s = 1; s < 4; ++s) hs.push_back(conv3x3_s2(hs.back()));
  std::set<std::string> seen;
  std::vector<BlockSpec> out;
  auto add = [&](BlockSpec b) {
    if (seen.insert(b.key()).second) out.push_back(std::move(b));
  };
  const int cin = def_.fixed_int("stem_in_channels");
  for (int c : def_.dims[kWidth0].options) add(BlockSpec{BlockKind::stem, {cin, c, r, r}});
  for (int s = 0; s < 4; ++s) {
    for (int c : def_.dims[kWidth0 + s].options) {
      add(BlockSpec{BlockKind::meta4d, {c, hs[s], hs[s], pool, mlp}});
      if (s > 0)
        for (int cprev : def_.dims[kWidth0 + s - 1].options)
          add(BlockSpec{BlockKind::downsample, {cprev, c, hs[s - 1], hs[s - 1]}});
    }
  }
  for (int c : def_.dims[kWidth0 + 3].options) {
    add(BlockSpec{BlockKind::flatten, {c, hs[3], hs[3]}});
    add(BlockSpec{BlockKind::meta3d, {c, hs[3], hs[3], heads, kd, ar, mlp}});
    add(BlockSpec{
        BlockKind::head,
        {c, hs[3] * hs[3], def_.fixed_int("num_classes"), def_.fixed_int("distillation")}});
  }
  return out;
}

Arch EfficientFormerSpace::largest() const {
  Arch a = at_last_options();
  repair(a);
  return a;
}

Arch EfficientFormerSpace::smallest() const { return at_first_options(); }

nlohmann::json EfficientFormerSpace::to_json(const Arch& a) const {
  const auto g = [&](std::size_t i) { return a.genes.at(i); };
  return {{"space", def_.name},
          {"embed_dims", {g(0), g(1), g(2), g(3)}},
          {"depths", {g(4), g(5), g(6), g(7)}},
          {"num_vit", g(kNumVit)},
          {"resolution", g(kResolution)}};
}

Arch EfficientFormerSpace::from_json(const nlohmann::json& j) const {
  const std::string what = "efficientformer arch JSON";
  require_only_keys(j, {"space", "embed_dims", "depths", "num_vit", "resolution"}, what);
  const std::string space = require_string(require_key(j, "space", what), what + ".space");
  if (space != def_.name)
    throw Error(what + ": \"space\" is '" + space + "', expected '" + def_.name + "'");
  Arch a{def_.name, {}};
  for (int v : require_int_array(require_key(j, "embed_dims", what), 4, what + ".embed_dims"))
    a.genes.push_back(v);
  for (int v : require_int_array(require_key(j, "depths", what), 4, what + ".depths"))
    a.genes.push_back(v);
  a.genes.push_back(require_int(require_key(j, "num_vit", what), what + ".num_vit"));
  a.genes.push_back(require_int(require_key(j, "resolution", what), what + ".resolution"));
  validate(a);
  return a;
}

nlohmann::json EfficientFormerSpace::export_config(const Arch& a) const {
  // timm.models.efficientformer.EfficientFormer(**kwargs) rebuilds this arch; img_size is the
  // evaluation resolution.
  nlohmann::json j = to_json(a);
  return {{"model", "timm.models.efficientformer.EfficientFormer"},
          {"kwargs",
           {{"embed_dims", j["embed_dims"]}, {"depths", j["depths"]}, {"num_vit", j["num_vit"]}}},
          {"img_size", j["resolution"]}};
}

}  // namespace hwnas
