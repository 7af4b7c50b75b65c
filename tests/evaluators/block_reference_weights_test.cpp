// Block::drop_reference_weights, which the profiler's cold-weights copies call: the fast path
// (fp32, and int8 after the timing preparer) gives bit-identical outputs with the reference
// weights dropped, for one block of each variant the three families build, and the reference
// path then refuses by name instead of reading freed memory.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/rng.h"
#include "evaluators/engine/block.h"
#include "evaluators/engine/param_reader.h"
#include "evaluators/ops/layer_log.h"
#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/quantization.h"
#include "evaluators/runtime/thread_scope.h"
#include "spaces/registry.h"
#include "tests/evaluators/golden_model.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

// One block per variant (block_variant) of the small members of the three families.
std::map<std::string, BlockSpec> one_block_per_variant() {
  std::map<std::string, BlockSpec> out;
  const auto add = [&](const std::string& space, const std::string& name) {
    const SearchSpace& s = get_space(space);
    for (const BlockSpec& b : s.decode(s.resolve(name)).blocks) out.emplace(block_variant(b), b);
  };
  for (const char* space : {"efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"})
    for (const char* name : {"s", "l"}) add(space, name);
  const SearchSpace& ef = get_space("efficientformer");
  for (const BlockSpec& b :  // Meta3D and the flatten block: the Fashion-MNIST s and l have none
       ef.decode(ef.from_json(nlohmann::json::parse(
                     R"({"space":"efficientformer","embed_dims":[32,64,128,256],)"
                     R"("depths":[1,1,1,2],"num_vit":1,"resolution":64})")))
           .blocks)
    out.emplace(block_variant(b), b);
  return out;
}

// The block's output on a seeded input after `int8` preparation and, with `drop`, its
// reference weights dropped.
Tensor run_block(const BlockSpec& spec, bool int8, bool drop) {
  // One thread: the int8 preparer's calibration samples rows in the order threads reach them.
  const ThreadScope one(1);
  ParamReader reader = ParamReader::random(11);
  LayerLog log;
  const std::unique_ptr<Block> block = make_block(spec, reader);
  const FeatureShape i = block_input_shape(spec), o = block_output_shape(spec);
  Tensor in(1, i.h, i.w, i.c), out(1, o.h, o.w, o.c);
  Rng rng(5);
  for (std::size_t k = 0; k < in.size(); ++k)
    in.data()[k] = static_cast<float>(2 * uniform_real(rng) - 1);
  block->reserve(1);
  if (int8) int8_timing_preparer()(log.made(), [&] { block->forward(in, out); });
  if (drop) block->drop_reference_weights();
  block->forward(in, out);
  if (drop) {
    Tensor ref(1, o.h, o.w, o.c);
    EXPECT_NE(test::error_of([&] {
                block->forward_reference(in, ref);
              }).find(spec.key() + ": its reference weights were dropped"),
              std::string::npos);
  }
  return out;
}

TEST(BlockReferenceWeights, DroppingThemLeavesTheFastPathBitIdentical) {
  const auto blocks = one_block_per_variant();
  std::set<BlockKind> kinds;
  for (const auto& [variant, spec] : blocks) {
    kinds.insert(spec.kind);
    for (const bool int8 : {false, true}) {
      if (int8 && !int8_supported()) continue;
      const Tensor kept = run_block(spec, int8, false), dropped = run_block(spec, int8, true);
      ASSERT_EQ(kept.size(), dropped.size());
      EXPECT_EQ(test::max_abs_diff(kept.data(), dropped.data(), kept.size()), 0.0)
          << variant << (int8 ? " int8" : " fp32");
    }
  }
  // Every kind of the three families: 6 EfficientFormer, 5 ElasticViT, 3 Hiera.
  EXPECT_EQ(kinds.size(), 14u);
  std::cout << blocks.size() << " block variants checked\n";
}

}  // namespace
}  // namespace hwnas
