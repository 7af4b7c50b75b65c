#include "evaluators/engine/block.h"

#include "evaluators/families/model_family.h"

namespace hwnas {

std::unique_ptr<Block> make_block(const BlockSpec& spec, ParamReader& params) {
  block_cost(spec);  // validates the attributes
  return model_family(block_kind_family(spec.kind)).make_block(spec, params);
}

}  // namespace hwnas
