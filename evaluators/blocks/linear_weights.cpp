#include "evaluators/blocks/linear_weights.h"

namespace hwnas {

LinearWeights read_linear(ParamReader& r, const std::string& name, int in, int out) {
  LinearWeights l;
  l.weight = transpose_linear(r.get(name + ".weight", {out, in}, InitKind::weight), out, in);
  l.bias = to_buffer(r.get(name + ".bias", {out}, InitKind::bias));
  l.repack(in, out);
  return l;
}

}  // namespace hwnas
