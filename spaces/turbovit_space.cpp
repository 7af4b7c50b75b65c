#include "spaces/turbovit_space.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {

TurboVitSpace::TurboVitSpace(std::string_view definition_name)
    : DefinedSpace(definition_name, kGenes, "TurboViT") {
  load_named();
}

std::vector<int> TurboVitSpace::stage_widths(int embed_dim, int mult2, int mult3, int mult4) {
  std::vector<int> w{embed_dim};
  for (int m : {mult2, mult3, mult4}) w.push_back(16 * ((w.back() * m + 80) / 160));  // tenths
  return w;
}

Arch TurboVitSpace::sample(Rng& rng) const {
  Arch a{def_.name, std::vector<int>(kGenes)};
  for (std::size_t i = 0; i < kGenes; ++i) a.genes[i] = pick_option(rng, def_.dims[i].options);
  // Head dims are drawn among those that divide the stage width (uniform over legal ones).
  const auto w =
      stage_widths(a.genes[kEmbed], a.genes[kMult], a.genes[kMult + 1], a.genes[kMult + 2]);
  for (std::size_t s = 0; s < 4; ++s) {
    std::vector<int> legal;
    for (int d : def_.dims[kHeadDim + s].options)
      if (w[s] % d == 0) legal.push_back(d);
    a.genes[kHeadDim + s] = pick_option(rng, legal);
  }
  return a;
}

void TurboVitSpace::repair(Arch& a) const {
  const auto w =
      stage_widths(a.genes[kEmbed], a.genes[kMult], a.genes[kMult + 1], a.genes[kMult + 2]);
  for (std::size_t s = 0; s < 4; ++s) {
    const auto& opts = def_.dims[kHeadDim + s].options;
    int best = opts.front();
    for (int d : opts)
      if (d <= a.genes[kHeadDim + s] && w[s] % d == 0) best = d;
    if (w[s] % a.genes[kHeadDim + s] != 0) a.genes[kHeadDim + s] = best;
  }
}

void TurboVitSpace::validate(const Arch& a) const {
  check_genes(a);
  const auto w =
      stage_widths(a.genes[kEmbed], a.genes[kMult], a.genes[kMult + 1], a.genes[kMult + 2]);
  for (std::size_t s = 0; s < 4; ++s)
    if (w[s] % a.genes[kHeadDim + s] != 0) {
      std::vector<int> legal;
      for (int d : def_.dims[kHeadDim + s].options)
        if (w[s] % d == 0) legal.push_back(d);
      throw Error(def_.name + ": head_dim_s" + std::to_string(s + 1) + " = " +
                  std::to_string(a.genes[kHeadDim + s]) + " does not divide the stage width " +
                  std::to_string(w[s]) + "; choose from " + describe_options(legal));
    }
}

HieraConfig TurboVitSpace::hiera_config(const Arch& a) const {
  validate(a);
  HieraConfig c;
  c.resolution = a.genes[kResolution];
  c.in_channels = def_.fixed_int("in_channels");
  c.num_classes = def_.fixed_int("num_classes");
  c.widths = stage_widths(a.genes[kEmbed], a.genes[kMult], a.genes[kMult + 1], a.genes[kMult + 2]);
  const int mu_stages = def_.fixed_int("mask_unit_stages");
  for (std::size_t s = 0; s < 4; ++s) {
    c.heads.push_back(c.widths[s] / a.genes[kHeadDim + s]);
    c.depths.push_back(a.genes[kDepth + s]);
    c.mlp_ratios.push_back(a.genes[kMlp + s]);
    c.mask_unit_attn.push_back(static_cast<int>(s) < mu_stages);
  }
  c.mask_unit = a.genes[kMaskUnit];
  c.q_pool = def_.fixed_int("q_pool");
  return c;
}

Network TurboVitSpace::decode(const Arch& a) const {
  return hiera_network(hiera_config(a), def_.name);
}

std::vector<BlockSpec> TurboVitSpace::enumerate_blocks(int r) const {
  if (option_index(kResolution, r) < 0)
    throw Error(def_.name + ": resolution " + std::to_string(r) +
                " is not in the space; choose from " +
                describe_options(def_.dims[kResolution].options));
  // The space is small enough to enumerate every stage configuration that can reach each block:
  // decode one network per (widths, head dims, mlp, mask unit) with the depths that expose every
  // block position (stage 1 at depth 2, stage 2 at 2, stages 3/4 at 2: the first block of a stage
  // differs from the rest, and the rest are all alike).
  std::set<std::string> seen;
  std::vector<BlockSpec> out;
  const auto& d = def_.dims;
  Arch a{def_.name, std::vector<int>(kGenes)};
  a.genes[kResolution] = r;
  a.genes[kDepth] = 2, a.genes[kDepth + 1] = 2, a.genes[kDepth + 2] = 2, a.genes[kDepth + 3] = 2;
  for (int e : d[kEmbed].options)
    for (int m2 : d[kMult].options)
      for (int m3 : d[kMult + 1].options)
        for (int m4 : d[kMult + 2].options)
          for (int mu : d[kMaskUnit].options) {
            a.genes[kEmbed] = e, a.genes[kMult] = m2, a.genes[kMult + 1] = m3,
            a.genes[kMult + 2] = m4;
            a.genes[kMaskUnit] = mu;
            const auto w = stage_widths(e, m2, m3, m4);
            // Blocks of a stage depend on that stage's head dim and MLP ratio only: vary them
            // stage by stage together (the head-dim x MLP pairs), which covers every combination
            // per block; a head dim that does not divide a width falls back to the first option
            // (the definitions make it divide every width).
            for (std::size_t hd_i = 0; hd_i < d[kHeadDim].options.size(); ++hd_i)
              for (int mlp : d[kMlp].options) {
                bool any = false;
                for (std::size_t s = 0; s < 4; ++s) {
                  const int hd = d[kHeadDim + s].options[hd_i];
                  a.genes[kHeadDim + s] = w[s] % hd == 0 ? hd : d[kHeadDim + s].options.front();
                  a.genes[kMlp + s] = mlp;
                  any = any || w[s] % hd == 0;
                }
                if (!any) continue;
                for (const auto& b : decode(a).blocks)
                  if (seen.insert(b.key()).second) out.push_back(b);
              }
          }
  return out;
}

Arch TurboVitSpace::largest() const {
  Arch a = at_last_options();
  repair(a);
  return a;
}

Arch TurboVitSpace::smallest() const {
  Arch a = at_first_options();
  repair(a);
  return a;
}

nlohmann::json TurboVitSpace::to_json(const Arch& a) const {
  const HieraConfig c = hiera_config(a);
  nlohmann::json mult = nlohmann::json::array();
  for (std::size_t i = 0; i < 3; ++i) mult.push_back(a.genes[kMult + i] / 10.0);
  std::vector<int> head_dim;
  for (std::size_t s = 0; s < 4; ++s) head_dim.push_back(a.genes[kHeadDim + s]);
  return {{"space", def_.name},       {"embed_dim", a.genes[kEmbed]}, {"width_mult", mult},
          {"depths", c.depths},       {"head_dim", head_dim},         {"mlp_ratio", c.mlp_ratios},
          {"mask_unit", c.mask_unit}, {"resolution", c.resolution},   {"widths", c.widths},
          {"heads", c.heads}};
}

Arch TurboVitSpace::from_json(const nlohmann::json& j) const {
  const std::string what = def_.name + " arch JSON";
  require_only_keys(j,
                    {"space", "embed_dim", "width_mult", "depths", "head_dim", "mlp_ratio",
                     "mask_unit", "resolution", "widths", "heads"},
                    what);
  const std::string space = require_string(require_key(j, "space", what), what + ".space");
  if (space != def_.name)
    throw Error(what + ": \"space\" is '" + space + "', expected '" + def_.name + "'");
  Arch a{def_.name, {}};
  a.genes.push_back(require_int(require_key(j, "embed_dim", what), what + ".embed_dim"));
  const auto& mult = require_key(j, "width_mult", what);
  if (!mult.is_array() || mult.size() != 3)
    throw Error(what + ".width_mult needs 3 numbers (stages 2-4), each 1.5 or 2");
  for (const auto& m : mult) {
    const double v = m.is_number() ? m.get<double>() : 0.0;
    if (v != 1.5 && v != 2.0)
      throw Error(what + ".width_mult entries must be 1.5 or 2, got " + m.dump());
    a.genes.push_back(static_cast<int>(std::lround(v * 10)));
  }
  for (const char* key : {"depths", "head_dim", "mlp_ratio"})
    for (int v :
         require_int_array(require_key(j, key, what), 4, what + "." + key + " (4 integers)"))
      a.genes.push_back(v);
  a.genes.push_back(require_int(require_key(j, "mask_unit", what), what + ".mask_unit"));
  a.genes.push_back(require_int(require_key(j, "resolution", what), what + ".resolution"));
  validate(a);
  const HieraConfig c = hiera_config(a);
  if (j.contains("widths") && require_int_array(j.at("widths"), 4, what + ".widths") != c.widths)
    throw Error(what + ".widths disagrees with embed_dim and width_mult (derived: " +
                nlohmann::json(c.widths).dump() + "); drop \"widths\" or fix it");
  if (j.contains("heads") && require_int_array(j.at("heads"), 4, what + ".heads") != c.heads)
    throw Error(what + ".heads disagrees with widths / head_dim (derived: " +
                nlohmann::json(c.heads).dump() + "); drop \"heads\" or fix it");
  return a;
}

nlohmann::json TurboVitSpace::export_config(const Arch& a) const {
  const HieraConfig c = hiera_config(a);
  return {{"model", "Hiera-style (timm.models.hiera.Hiera blocks with per-stage widths/heads/mlp)"},
          {"img_size", c.resolution},
          {"widths", c.widths},
          {"heads", c.heads},
          {"depths", c.depths},
          {"mlp_ratios", c.mlp_ratios},
          {"mask_unit_size", c.mask_unit},
          {"mask_unit_attn", c.mask_unit_attn},
          {"q_pool", c.q_pool},
          {"reconstructed", true}};
}

}  // namespace hwnas
