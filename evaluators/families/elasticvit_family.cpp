#include "evaluators/blocks/elasticvit_blocks.h"
#include "evaluators/families/builtin_families.h"
#include "evaluators/slicing/elasticvit_slicing.h"

namespace hwnas {

ModelFamily elasticvit_family() {
  return ModelFamily{"elasticvit", make_builtin_block, elasticvit_param_prefixes, slice_elasticvit};
}

}  // namespace hwnas
