// Flush-to-zero for the engine's threads.
#pragma once

namespace hwnas {

/// Sets FTZ and DAZ in this thread's MXCSR (x86; a no-op elsewhere) while alive and restores the
/// previous mode. Subnormal floats are 10-100x slower on x86: a random-weight subnet whose
/// activations decay below 1e-38 in its last blocks ran an MHSA block in 28 ms instead of 2.7 ms,
/// which made latencies depend on the weights' seed (bench/bench_block_context). Inference
/// engines (oneDNN, XNNPACK, TensorFlow) flush them the same way; values that small do not
/// change any logit at fp32 precision.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned previous_;
};

/// Sets FTZ and DAZ on the calling thread for good (engine worker threads).
void flush_denormals_on_this_thread();

}  // namespace hwnas
