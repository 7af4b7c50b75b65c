#include "spaces/network.h"

#include "core/error.h"

namespace hwnas {

std::int64_t Network::params() const {
  std::int64_t total = 0;
  for (const auto& b : blocks) total += block_cost(b).params;
  return total;
}

std::int64_t Network::macs() const {
  std::int64_t total = 0;
  for (const auto& b : blocks) total += block_cost(b).macs;
  return total;
}

std::int64_t Network::activation_bytes() const {
  std::int64_t total = 0;
  for (const auto& b : blocks) {
    const FeatureShape o = block_output_shape(b);
    total += std::int64_t{o.h} * o.w * o.c * static_cast<std::int64_t>(sizeof(float));
  }
  return total;
}

int Network::num_classes() const {
  if (blocks.empty()) throw Error("network of space '" + space + "' has no blocks");
  return block_output_shape(blocks.back()).c;
}

void Network::check_shapes() const {
  FeatureShape cur = input;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const FeatureShape in = block_input_shape(blocks[i]);
    // The head reads tokens as one row: any h x w grid with the same count and channels fits.
    const bool same = blocks[i].kind == BlockKind::head
                          ? (in.h * in.w == cur.h * cur.w && in.c == cur.c)
                          : in == cur;
    if (!same)
      throw Error("network of space '" + space + "': block " + std::to_string(i) + " (" +
                  blocks[i].key() + ") expects input " + std::to_string(in.h) + "x" +
                  std::to_string(in.w) + "x" + std::to_string(in.c) + " but receives " +
                  std::to_string(cur.h) + "x" + std::to_string(cur.w) + "x" +
                  std::to_string(cur.c));
    cur = block_output_shape(blocks[i]);
  }
}

}  // namespace hwnas
