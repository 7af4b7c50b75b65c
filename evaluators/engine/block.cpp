#include "evaluators/engine/block.h"

#include "core/error.h"
#include "evaluators/families/model_family.h"

namespace hwnas {

void Block::forward_reference(const Tensor& in, Tensor& out) {
  if (reference_dropped_)
    throw Error("block " + spec_.key() +
                ": its reference weights were dropped (drop_reference_weights); build the block "
                "again to run the reference kernels");
  run_reference(in, out);
}

void Block::drop_reference_weights() {
  drop_unread_weights();
  reference_dropped_ = true;
}

std::unique_ptr<Block> make_block(const BlockSpec& spec, ParamReader& params) {
  block_cost(spec);  // validates the attributes
  return model_family(block_kind_family(spec.kind)).make_block(spec, params);
}

}  // namespace hwnas
