#include "predictors/lut_latency_predictor.h"

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "core/error.h"

namespace hwnas {

std::unique_ptr<LutLatencyPredictor> LutLatencyPredictor::open(const std::string& db_path,
                                                               const std::string& device_name,
                                                               LatencyStatistic statistic) {
  LatencyTable table(db_path, LatencyTable::Mode::read_only);
  auto rows = table.rows(device_name);
  const bool p10 = statistic == LatencyStatistic::p10;
  if (p10)
    for (auto& r : rows) r.stats.median_ms = r.stats.p10_ms;
  if (rows.empty())
    throw Error("device '" + device_name + "' has no rows in latency table " + db_path +
                "; build them with `hwnas profile --db " + db_path + " --device " + device_name +
                "`");
  double overhead = 0;
  const char* overhead_key = p10 ? "ms_p10" : "ms";
  if (auto o = table.calibration(device_name, "overhead"); o && o->contains(overhead_key))
    overhead = (*o)[overhead_key].get<double>();
  std::optional<LatencyCorrection> corr;
  if (auto c = table.calibration(device_name, "correction"); c && !p10)
    corr = LatencyCorrection::from_json(*c);
  auto p = from_rows(rows, overhead, std::move(corr),
                     "lut:" + db_path + "#" + device_name + (p10 ? " (p10)" : ""));
  p->db_path_ = db_path;
  p->device_ = device_name;
  return p;
}

std::unique_ptr<LutLatencyPredictor> LutLatencyPredictor::open_or_empty(
    const std::string& db_path, const std::string& device_name) {
  bool empty = !std::filesystem::exists(db_path);
  if (!empty) {
    LatencyTable table(db_path, LatencyTable::Mode::read_only);
    empty = !table.find_device(device_name) || table.keys(device_name).empty();
  }
  if (!empty) return open(db_path, device_name);
  auto p = from_rows({}, 0.0, std::nullopt, "lut:" + db_path + "#" + device_name);
  p->db_path_ = db_path;
  p->device_ = device_name;
  return p;
}

std::unique_ptr<LutLatencyPredictor> LutLatencyPredictor::with_rows(
    const std::vector<LatencyRow>& rows) const {
  std::unique_ptr<LutLatencyPredictor> p(new LutLatencyPredictor(*this));
  for (const auto& r : rows) p->set_row(BlockSpec::parse(r.key), r.stats.median_ms);
  return p;
}

std::unique_ptr<LutLatencyPredictor> LutLatencyPredictor::from_rows(
    const std::vector<LatencyRow>& rows, double overhead_ms,
    std::optional<LatencyCorrection> correction, std::string source) {
  std::unique_ptr<LutLatencyPredictor> p(new LutLatencyPredictor());
  p->overhead_ms_ = overhead_ms;
  p->correction_ = std::move(correction);
  p->rows_.reserve(rows.size());
  for (const auto& r : rows) p->set_row(BlockSpec::parse(r.key), r.stats.median_ms);
  p->source_ = std::move(source);
  p->db_path_ = "hwnas.db";
  p->device_ = "host";
  return p;
}

void LutLatencyPredictor::set_row(const BlockSpec& block, double median_ms) {
  Row& r = rows_[block];
  r.median_ms = r.corrected_ms = median_ms;
  if (correction_)
    r.corrected_ms += correction_->block_term(correction_kind_slot(block.kind),
                                              block_stage_level(block), median_ms);
}

void LutLatencyPredictor::throw_missing(const Network& net) const {
  const auto miss = missing(net);
  std::string keys;
  for (std::size_t i = 0; i < miss.size() && i < 3; ++i) keys += (i ? ", " : "") + miss[i].key();
  const FeatureShape in = net.input;
  throw Error("latency table " + db_path_ + " (device '" + device_ + "') has no row for " +
              std::to_string(miss.size()) + " block(s) of this network: " + keys +
              (miss.size() > 3 ? ", ..." : "") + "; fill them with `hwnas profile --space " +
              net.space + " --resolution " + std::to_string(in.h) + " --db " + db_path_ +
              " --device " + device_ + "`");
}

namespace {

// One table holds one precision's rows; a network whose precision genes put some blocks in
// int8 needs two.
void check_one_precision(const Network& net) {
  if (std::any_of(net.block_int8.begin(), net.block_int8.end(), [](auto b) { return b != 0; }))
    throw Error("a network of space '" + net.space +
                "' has int8 stages (precision genes): one latency table cannot predict it; use "
                "its fp32 and int8 tables together (--precision mixed)");
}

}  // namespace

double LutLatencyPredictor::predict_sum_ms(const Network& net) const {
  check_one_precision(net);
  double sum = overhead_ms_;
  for (const auto& b : net.blocks) {
    const auto it = rows_.find(b);
    if (it == rows_.end()) throw_missing(net);
    sum += it->second.median_ms;
  }
  return sum;
}

LatencyFeatures LutLatencyPredictor::features(const Network& net) const {
  check_one_precision(net);
  LatencyFeatures f;
  f.plain_ms = overhead_ms_;
  for (const auto& b : net.blocks) {
    const auto it = rows_.find(b);
    if (it == rows_.end()) throw_missing(net);
    f.add_block(b, it->second.median_ms);
    f.plain_ms += it->second.median_ms;
  }
  return f;
}

double LutLatencyPredictor::predict_ms(const Network& net) const {
  if (!correction_) return predict_sum_ms(net);
  check_one_precision(net);
  double sum = overhead_ms_ + correction_->intercept_ms();
  for (const auto& b : net.blocks) {
    const auto it = rows_.find(b);
    if (it == rows_.end()) throw_missing(net);
    sum += it->second.corrected_ms;
  }
  return sum;
}

std::vector<BlockSpec> LutLatencyPredictor::missing(const Network& net) const {
  std::vector<BlockSpec> out;
  std::unordered_set<BlockSpec, BlockSpecHash> seen;
  for (const auto& b : net.blocks)
    if (!rows_.count(b) && seen.insert(b).second) out.push_back(b);
  return out;
}

std::optional<double> LutLatencyPredictor::block_ms(const BlockSpec& block) const {
  const auto it = rows_.find(block);
  if (it == rows_.end()) return std::nullopt;
  return it->second.median_ms;
}

std::string LutLatencyPredictor::source() const {
  return source_ + (correction_ ? " +correction" : "");
}

}  // namespace hwnas
