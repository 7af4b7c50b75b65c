#include "spaces/hiera_network.h"

#include <cmath>

#include "core/error.h"
#include "core/json_util.h"

namespace hwnas {

Network hiera_network(const HieraConfig& c, const std::string& space) {
  const std::size_t stages = c.widths.size();
  if (stages == 0 || c.heads.size() != stages || c.depths.size() != stages ||
      c.mlp_ratios.size() != stages || c.mask_unit_attn.size() != stages)
    throw Error(
        "hiera config: widths, heads, depths, mlp_ratios and mask_unit_attn need one value "
        "per stage (" +
        std::to_string(stages) + ")");
  for (std::size_t s = 0; s < stages; ++s)
    if (c.depths[s] < 1 || c.widths[s] < 1 || c.heads[s] < 1 || c.widths[s] % c.heads[s] != 0)
      throw Error("hiera config: stage " + std::to_string(s + 1) +
                  " needs depth >= 1 and a width divisible by its heads");
  Network net;
  net.space = space;
  net.input = {c.resolution, c.resolution, c.in_channels};
  const BlockSpec embed{BlockKind::hiera_patch_embed,
                        {c.in_channels, c.widths[0], c.resolution, c.resolution}};
  net.blocks.push_back(embed);
  FeatureShape cur = block_output_shape(embed);
  int mu = c.mask_unit;
  int cin = c.widths[0];
  int prev_stage = 0;  // stage of the previous block: drives the mask-unit flag (lag by one)
  for (std::size_t s = 0; s < stages; ++s) {
    for (int b = 0; b < c.depths[s]; ++b) {
      const bool qpool = b == 0 && s > 0 && static_cast<int>(s) <= c.q_pool;
      const bool windowed = c.mask_unit_attn[static_cast<std::size_t>(prev_stage)];
      if (windowed && (mu < 1 || cur.h % mu != 0 || cur.w % mu != 0))
        throw Error("hiera config: mask unit " + std::to_string(mu) + " does not tile the " +
                    std::to_string(cur.h) + "x" + std::to_string(cur.w) + " token map of stage " +
                    std::to_string(s + 1) + "; use a mask unit that divides it");
      const BlockSpec blk{BlockKind::hiera_block,
                          {cin, c.widths[s], cur.h, cur.w, c.heads[s], windowed ? mu : 0,
                           qpool ? 1 : 0, c.mlp_ratios[s]}};
      net.blocks.push_back(blk);
      cur = block_output_shape(blk);
      if (qpool) mu /= 2;
      cin = c.widths[s];
      prev_stage = static_cast<int>(s);
    }
  }
  net.blocks.push_back(BlockSpec{BlockKind::hiera_head, {cin, cur.h, cur.w, c.num_classes}});
  return net;
}

HieraConfig hiera_config_from_timm(const nlohmann::json& j) {
  const std::string what = "timm Hiera arch";
  const auto expect_pair = [&](const char* key, int value) {
    if (!j.contains(key)) return;
    const auto v = require_int_array(j.at(key), 2, what + "." + key);
    if (v[0] != value || v[1] != value)
      throw Error(what + "." + key + " must be [" + std::to_string(value) + ", " +
                  std::to_string(value) + "] for hwnas's hiera blocks");
  };
  expect_pair("patch_kernel", 7);
  expect_pair("patch_stride", 4);
  expect_pair("patch_padding", 3);
  expect_pair("q_stride", 2);
  HieraConfig c;
  const auto img = require_int_array(require_key(j, "img_size", what), 2, what + ".img_size");
  if (img[0] != img[1]) throw Error(what + ".img_size must be square");
  c.resolution = img[0];
  const auto mu =
      require_int_array(require_key(j, "mask_unit_size", what), 2, what + ".mask_unit_size");
  if (mu[0] != mu[1]) throw Error(what + ".mask_unit_size must be square");
  c.mask_unit = mu[0];
  c.q_pool = require_int(require_key(j, "q_pool", what), what + ".q_pool");
  c.depths = require_int_array(require_key(j, "stages", what), -1, what + ".stages");
  const auto& flags = require_key(j, "mask_unit_attn", what);
  if (!flags.is_array() || flags.size() != c.depths.size())
    throw Error(what + ".mask_unit_attn needs one bool per stage");
  for (const auto& f : flags) {
    if (!f.is_boolean()) throw Error(what + ".mask_unit_attn needs booleans");
    c.mask_unit_attn.push_back(f.get<bool>());
  }
  const auto number = [&](const char* key) {
    const auto& v = require_key(j, key, what);
    if (!v.is_number()) throw Error(what + "." + key + " must be a number");
    return v.get<double>();
  };
  const double dim_mul = number("dim_mul"), head_mul = number("head_mul"),
               mlp = number("mlp_ratio");
  if (mlp != std::floor(mlp))
    throw Error(what + ".mlp_ratio must be an integer for hwnas's hiera blocks");
  int dim = require_int(require_key(j, "embed_dim", what), what + ".embed_dim");
  int heads = require_int(require_key(j, "num_heads", what), what + ".num_heads");
  for (std::size_t s = 0; s < c.depths.size(); ++s) {
    if (s > 0) {  // timm truncates at each stage: embed_dim = int(embed_dim * dim_mul)
      dim = static_cast<int>(dim * dim_mul);
      heads = static_cast<int>(heads * head_mul);
    }
    c.widths.push_back(dim);
    c.heads.push_back(heads);
    c.mlp_ratios.push_back(static_cast<int>(mlp));
  }
  return c;
}

}  // namespace hwnas
