#include "predictors/surrogate_accuracy.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "evaluators/ops/eigen.h"  // its own block: it must precede <immintrin.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/rng.h"

namespace hwnas {
namespace {

struct Ridge {
  double bias = 0.0;
  std::vector<std::vector<double>> weight;  // [dim][option]
};

// One-hot ridge fit on the rows `use` of `index` (option indices) and `y`.
Ridge fit_ridge(const std::vector<std::vector<int>>& index, const std::vector<double>& y,
                const std::vector<std::size_t>& use, const std::vector<std::size_t>& option_count,
                double lambda) {
  std::vector<std::size_t> start(option_count.size());
  std::size_t p = 1;  // column 0 is the intercept
  for (std::size_t d = 0; d < option_count.size(); ++d) {
    start[d] = p;
    p += option_count[d];
  }
  Eigen::MatrixXd a =
      Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(p));
  Eigen::VectorXd b = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(p));
  std::vector<Eigen::Index> cols;
  for (std::size_t r : use) {
    cols.assign(1, 0);
    for (std::size_t d = 0; d < option_count.size(); ++d)
      cols.push_back(static_cast<Eigen::Index>(start[d] + static_cast<std::size_t>(index[r][d])));
    for (auto i : cols) {
      b(i) += y[r];
      for (auto j : cols) a(i, j) += 1.0;
    }
  }
  for (Eigen::Index i = 1; i < static_cast<Eigen::Index>(p); ++i) a(i, i) += lambda;
  // A tiny ridge on the intercept keeps the system positive definite without biasing it.
  a(0, 0) += 1e-12;
  const Eigen::VectorXd w = a.ldlt().solve(b);
  Ridge out;
  out.bias = w(0);
  for (std::size_t d = 0; d < option_count.size(); ++d) {
    out.weight.emplace_back(option_count[d]);
    for (std::size_t k = 0; k < option_count[d]; ++k)
      out.weight[d][k] = w(static_cast<Eigen::Index>(start[d] + k));
  }
  return out;
}

double ridge_predict(const Ridge& m, const std::vector<int>& idx) {
  double s = m.bias;
  for (std::size_t d = 0; d < idx.size(); ++d) s += m.weight[d][static_cast<std::size_t>(idx[d])];
  return s;
}

// RFC 4180 fields of one record; `in` is positioned at its start. Returns false at EOF.
bool read_record(std::istream& in, std::vector<std::string>& fields, int& line) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      fields.push_back(std::move(field));
      return true;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!any) return false;
  fields.push_back(std::move(field));
  return true;
}

}  // namespace

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw Error("kendall_tau: series of different lengths");
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0)
        ++ties_a;
      else if (db == 0)
        ++ties_b;
      else if ((da > 0) == (db > 0))
        ++concordant;
      else
        ++discordant;
    }
  const double denom =
      std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

SurrogateAccuracy::SurrogateAccuracy(const SearchSpace& space, const std::vector<Arch>& archs,
                                     const std::vector<double>& accuracies, SurrogateParams params,
                                     std::string origin)
    : space_(space), origin_(std::move(origin)), rows_(archs.size()) {
  if (archs.size() != accuracies.size())
    throw Error("surrogate " + origin_ + ": " + std::to_string(archs.size()) + " archs but " +
                std::to_string(accuracies.size()) + " accuracies");
  if (archs.size() < 2) throw Error("surrogate " + origin_ + ": needs at least 2 rows to fit");
  if (!(params.ridge_lambda > 0)) throw Error("surrogate: the ridge penalty must be > 0");
  const auto& dims = space.dims();
  std::vector<std::size_t> option_count;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    option_count.push_back(dims[d].options.size());
    const int lo = dims[d].options.front(), hi = dims[d].options.back();
    offset_.push_back(lo);
    lookup_.emplace_back(static_cast<std::size_t>(hi - lo + 1), -1);
    for (std::size_t k = 0; k < dims[d].options.size(); ++k)
      lookup_[d][static_cast<std::size_t>(dims[d].options[k] - lo)] = static_cast<int>(k);
  }
  std::vector<std::vector<int>> index;
  for (const auto& a : archs) {
    space.validate(a);
    std::vector<int> idx(dims.size());
    for (std::size_t d = 0; d < dims.size(); ++d) idx[d] = space.option_index(d, a.genes[d]);
    index.push_back(std::move(idx));
  }
  std::vector<std::size_t> all(archs.size());
  std::iota(all.begin(), all.end(), 0);
  const Ridge model = fit_ridge(index, accuracies, all, option_count, params.ridge_lambda);
  bias_ = model.bias;
  weight_ = model.weight;

  // k-fold cross-validation on a seeded shuffle; tau over the pooled out-of-fold predictions.
  const std::size_t folds = static_cast<std::size_t>(std::max(2, params.folds));
  if (archs.size() < 2 * folds) {
    cv_tau_ = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  std::vector<std::size_t> perm = all;
  Rng rng(params.seed);
  for (std::size_t i = perm.size(); i > 1; --i)
    std::swap(perm[i - 1],
              perm[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(i - 1)))]);
  std::vector<double> oof(archs.size());
  for (std::size_t f = 0; f < folds; ++f) {
    std::vector<std::size_t> train, test;
    for (std::size_t i = 0; i < perm.size(); ++i)
      (i % folds == f ? test : train).push_back(perm[i]);
    const Ridge m = fit_ridge(index, accuracies, train, option_count, params.ridge_lambda);
    for (std::size_t r : test) oof[r] = ridge_predict(m, index[r]);
  }
  cv_tau_ = kendall_tau(oof, accuracies);
}

double SurrogateAccuracy::predict_one(const Arch& arch) const {
  if (arch.genes.size() != weight_.size())
    throw Error("surrogate " + origin_ + ": arch has " + std::to_string(arch.genes.size()) +
                " genes, the space " + std::to_string(weight_.size()));
  double s = bias_;
  for (std::size_t d = 0; d < weight_.size(); ++d) {
    const int v = arch.genes[d] - offset_[d];
    const int k = (v >= 0 && v < static_cast<int>(lookup_[d].size()))
                      ? lookup_[d][static_cast<std::size_t>(v)]
                      : -1;
    if (k < 0)
      throw Error("surrogate " + origin_ + ": gene " + space_.dims()[d].name + "=" +
                  std::to_string(arch.genes[d]) + " is not an option of the space");
    s += weight_[d][static_cast<std::size_t>(k)];
  }
  return s;
}

std::vector<double> SurrogateAccuracy::predict(const std::vector<Arch>& archs) {
  std::vector<double> out(archs.size());
  for (std::size_t i = 0; i < archs.size(); ++i) out[i] = predict_one(archs[i]);
  return out;
}

std::string SurrogateAccuracy::source() const {
  std::ostringstream os;
  os.precision(3);
  os << "surrogate:" << origin_ << " (ridge on one-hot genes, " << rows_ << " rows, CV Kendall tau "
     << cv_tau_ << ")";
  return os.str();
}

std::unique_ptr<SurrogateAccuracy> SurrogateAccuracy::from_csv(const SearchSpace& space,
                                                               const std::string& path,
                                                               SurrogateParams params) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("surrogate: cannot open '" + path + "' (give --accuracy surrogate:FILE.csv)");
  std::vector<std::string> fields;
  int line = 1;
  if (!read_record(in, fields, line) || fields.size() != 2 || fields[0] != "arch" ||
      fields[1] != "accuracy")
    throw Error("surrogate: '" + path + "' must start with the header line 'arch,accuracy'");
  std::vector<Arch> archs;
  std::vector<double> acc;
  while (true) {
    const int record_line = line;
    if (!read_record(in, fields, line)) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    const std::string where = "surrogate: " + path + " line " + std::to_string(record_line) + ": ";
    if (fields.size() != 2)
      throw Error(where + "expected 2 fields (arch JSON, accuracy), got " +
                  std::to_string(fields.size()) + " (quote the JSON: \"{\"\"space\"\": ...}\")");
    const auto j = nlohmann::json::parse(fields[0], nullptr, false);
    if (j.is_discarded()) throw Error(where + "the arch is not valid JSON");
    try {
      archs.push_back(space.from_json(j));
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    char* end = nullptr;
    const double v = std::strtod(fields[1].c_str(), &end);
    if (fields[1].empty() || end == fields[1].c_str() || *end != '\0' || !std::isfinite(v))
      throw Error(where + "accuracy '" + fields[1] + "' is not a number");
    acc.push_back(v);
  }
  return std::make_unique<SurrogateAccuracy>(space, archs, acc, params, path);
}

}  // namespace hwnas
