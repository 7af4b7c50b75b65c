// How a block is timed for the latency table: alone with hot caches (the engine's
// measure_block), or with its weights cold as they are inside a whole network.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "evaluators/engine/measure.h"
#include "evaluators/runtime/timing.h"
#include "spaces/block_spec.h"

namespace hwnas {

/// - hot:  the engine's measure_block: one instance run back to back; its weights and buffers
///         stay in cache between runs.
/// - cold_weights: R instances of the block, each with its own weights and its own output
///         buffer, run in rotation over one input buffer, R chosen so the rotated copies (their
///         weights, the buffers they hold and their outputs) exceed `cache_bytes`. Each run then
///         reads its weights from memory and writes an output that left the cache, as a block does
///         inside a network whose weights do not fit the cache (each block writes a buffer of its
///         own, Model), while its input is as fresh as a previous block's output. A block that
///         opens its networks (block_reads_network_input: the stem, the patch embedding) reads the
///         image, which the previous forward has evicted, so its instances each read an input of
///         their own too.
enum class BlockTiming { hot, cold_weights };

/// The last-level cache one core can use (bytes), as the platform reports it: the size of
/// cpu0's highest-level data or unified cache in sysfs (/sys/devices/system/cpu/cpu0/cache/
/// index*/, or the directory in the environment variable HWNAS_CPU_CACHE_DIR, which tests use to
/// fake a VM's report), else sysconf(_SC_LEVEL3_CACHE_SIZE), else 32 MiB. Recorded for
/// diagnosis only: a VM may report any size (480 MiB on a 2-vCPU Xeon guest), so the block
/// timing is chosen by measurement (block_timing_choice.h).
std::int64_t last_level_cache_bytes();

/// The weights a cold-weights rotation cycles through before it reuses a copy: 64 MiB, twice the
/// largest last-level cache one core could use on the hosts measured so far (32 MiB, Zen 4), so
/// that no copy survives in cache until its next turn. Not read from the platform, which a VM
/// may misreport (last_level_cache_bytes).
inline constexpr std::int64_t kColdWeightsRotationBytes = 64LL << 20;

/// How many copies of a block whose one run touches `copy_bytes` of its own (its weights, its
/// held buffers and its output) a cold-weights rotation runs: enough that the rotated copies exceed
/// `cache_bytes`, at least 1 and at most 32 (a block of a few KiB would need thousands; its
/// weights are then a small share of what it reads).
int cold_weights_copies(std::int64_t copy_bytes, std::int64_t cache_bytes);

/// A sysfs cache size ("32768K", "1024K", "32M", "512") in bytes; 0 if it does not parse.
std::int64_t parse_cache_size(const std::string& text);

/// "hot" / "cold-weights", and back; the parse throws hwnas::Error naming the accepted values.
std::string block_timing_name(BlockTiming t);
BlockTiming block_timing_from_name(const std::string& name);

/// The cold-weights setup of one block, kept so that it can be timed again (the profiler's
/// later windows) without rebuilding and re-drawing its weight copies: R instances with their
/// own random weights and output (R so the rotated copies exceed `cache_bytes`, each copy
/// counted by what one run of it reads and writes: its weights once, the buffers it holds and
/// its output, the last two as the engine allocated them), one input (one per instance for a
/// block that reads the network's input).
class ColdWeightsBench {
 public:
  /// `prepare` (optional) turns each instance into the variant timed (int8: MeasureOptions).
  /// Throws hwnas::Error for a bad spec or batch < 1.
  ColdWeightsBench(const BlockSpec& spec, int batch, std::uint64_t seed, std::int64_t cache_bytes,
                   const TimingPreparer& prepare = {});
  ~ColdWeightsBench();
  ColdWeightsBench(const ColdWeightsBench&) = delete;
  ColdWeightsBench& operator=(const ColdWeightsBench&) = delete;
  /// Times the rotation on the calling thread's engine threads (open a ThreadScope first).
  TimingStats time(const TimingConfig& timing);
  /// The instances in the rotation (R).
  int copies() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Median etc. of one block (ms) at `threads` engine threads and `batch` images, random
/// weights/input from `seed`. `cache_bytes` is the last-level cache size to defeat
/// (cold_weights only); `prepare` as MeasureOptions::prepare. Throws hwnas::Error for a bad
/// spec, threads or batch < 1.
TimingStats time_block(const BlockSpec& spec, BlockTiming mode, int threads, int batch,
                       std::uint64_t seed, const TimingConfig& timing,
                       std::int64_t cache_bytes = kColdWeightsRotationBytes,
                       const TimingPreparer& prepare = {});

}  // namespace hwnas
