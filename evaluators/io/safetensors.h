// safetensors weight files (https://github.com/huggingface/safetensors format): name -> tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hwnas {

/// A tensor shape as PyTorch prints it, for error messages: "(64, 3, 3, 3)".
std::string shape_string(const std::vector<std::int64_t>& shape);

/// One stored tensor, widened to fp32, in the file's (PyTorch) layout and shape.
struct StoredTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

/// Named weights as a framework stored them (e.g. timm's state-dict names and layouts).
struct WeightStore {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;  ///< the header's __metadata__, if any

  bool contains(const std::string& name) const { return tensors.count(name) != 0; }
  /// The tensor called `name`. Throws hwnas::Error naming it if missing.
  const StoredTensor& at(const std::string& name) const;
};

/// Loads a .safetensors file. F32, F16 and BF16 tensors are accepted and widened exactly to
/// fp32; I64/I32 tensors (integer buffers such as num_batches_tracked) are converted to float
/// (exact below 2^24). Throws hwnas::Error naming the file (and the tensor) for a missing
/// file, a corrupt or truncated header, offsets outside the data section, a size that does not
/// match the shape, or another dtype (e.g. F64).
WeightStore load_safetensors(const std::string& path);

/// Writes F32 tensors to a .safetensors file (tests, exports). Throws hwnas::Error on I/O
/// failure or a shape/data size mismatch.
void save_safetensors(const std::string& path, const WeightStore& store);

/// IEEE half -> float (exact).
float half_to_float(std::uint16_t h);

}  // namespace hwnas
