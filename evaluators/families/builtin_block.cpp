#include <string>

#include "core/error.h"
#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/blocks/hiera_blocks.h"
#include "evaluators/families/builtin_families.h"

namespace hwnas {

std::unique_ptr<Block> make_builtin_block(const BlockSpec& spec, ParamReader& params) {
  switch (spec.kind) {
    case BlockKind::stem:
      return make_stem_block(spec, params);
    case BlockKind::meta4d:
      return make_meta4d_block(spec, params);
    case BlockKind::downsample:
      return make_downsample_block(spec, params);
    case BlockKind::flatten:
      return make_flatten_block(spec, params);
    case BlockKind::meta3d:
      return make_meta3d_block(spec, params);
    case BlockKind::head:
      return make_head_block(spec, params);
    case BlockKind::evit_first_conv:
      return make_evit_first_conv_block(spec, params);
    case BlockKind::evit_mbconv:
      return make_evit_mbconv_block(spec, params);
    case BlockKind::evit_attention:
      return make_evit_attention_block(spec, params);
    case BlockKind::evit_ffn:
      return make_evit_ffn_block(spec, params);
    case BlockKind::evit_head:
      return make_evit_head_block(spec, params);
    case BlockKind::hiera_patch_embed:
      return make_hiera_patch_embed_block(spec, params);
    case BlockKind::hiera_block:
      return make_hiera_block(spec, params);
    case BlockKind::hiera_head:
      return make_hiera_head_block(spec, params);
  }
  throw Error("engine: block '" + spec.key() +
              "' is a registered kind; its family's make_block builds it");
}

}  // namespace hwnas
