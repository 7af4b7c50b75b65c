#include "evaluators/blocks/hiera_names.h"
#include "evaluators/families/builtin_families.h"
#include "evaluators/slicing/hiera_slicing.h"

namespace hwnas {

ModelFamily hiera_family() {
  return ModelFamily{"hiera", make_builtin_block, hiera_param_prefixes, slice_hiera};
}

}  // namespace hwnas
