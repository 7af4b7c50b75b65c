// Links every layer of an installed hwnas (hwnas::results depends on all the others): prints
// EfficientFormer-L1's parameter count and the logit count of a small engine model.
#include <iostream>

#include "evaluators/engine/model.h"
#include "results/svg_chart.h"
#include "spaces/registry.h"

int main() {
  const hwnas::SearchSpace& s = hwnas::get_space("efficientformer");
  std::cout << s.decode(s.resolve("l1")).params() << "\n";
  const hwnas::Network small = s.decode(s.resolve(
      R"({"space":"efficientformer","embed_dims":[32,64,128,256],"depths":[1,1,1,1],"num_vit":1,"resolution":64})"));
  hwnas::Model model = hwnas::Model::random(small, 1);
  const hwnas::Tensor logits = model.forward(hwnas::Tensor(1, 64, 64, 3));
  std::cout << logits.size() << "\n";
  return hwnas::render_svg({}).empty() ? 1 : 0;
}
