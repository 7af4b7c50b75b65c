#include "evaluators/blocks/efficientformer_blocks.h"
#include "evaluators/families/builtin_families.h"
#include "evaluators/slicing/efficientformer_slicing.h"

namespace hwnas {

ModelFamily efficientformer_family() {
  return ModelFamily{"efficientformer", make_builtin_block, efficientformer_param_prefixes,
                     slice_efficientformer};
}

}  // namespace hwnas
