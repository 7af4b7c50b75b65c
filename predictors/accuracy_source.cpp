#include "predictors/accuracy_source.h"

#include "core/error.h"
#include "predictors/external_accuracy.h"
#include "predictors/surrogate_accuracy.h"

namespace hwnas {
namespace {

// The part after "kind:" when `spec` starts with it.
bool take(const std::string& spec, const std::string& kind, std::string* rest) {
  const std::string prefix = kind + ":";
  if (spec.rfind(prefix, 0) != 0) return false;
  *rest = spec.substr(prefix.size());
  if (rest->empty())
    throw Error("--accuracy '" + spec + "' names no " + (kind == "external" ? "command" : "file"));
  return true;
}

}  // namespace

std::string supernet_file(const std::string& spec) {
  const std::string prefix = "supernet:";
  return spec.rfind(prefix, 0) == 0 ? spec.substr(prefix.size()) : std::string();
}

AccuracySource make_accuracy_predictor(const std::string& spec, const SearchSpace& space,
                                       const AccuracySourceOptions& options) {
  AccuracySource out;
  std::string rest;
  if (spec.empty())
    throw Error(
        "objective 'accuracy' needs --accuracy supernet:FILE, external:CMD or "
        "surrogate:FILE.csv");
  if (take(spec, "supernet", &rest)) {
    SubnetEvalOptions eo;
    eo.dataset = options.dataset;
    eo.split = options.split;
    eo.seed = 0;
    eo.samples = options.samples;
    eo.threads = options.threads;
    eo.precision = options.precision;
    out.supernet = std::make_shared<SupernetAccuracy>(space, rest, eo);
    out.predictor = out.supernet;
    const bool finer = options.final_samples == 0
                           ? options.samples != 0
                           : options.final_samples > 0 && options.samples != 0 &&
                                 static_cast<std::size_t>(options.final_samples) > options.samples;
    if (finer) {
      eo.samples = static_cast<std::size_t>(options.final_samples);
      out.final_scorer = std::make_shared<SupernetAccuracy>(space, rest, eo);
    }
    if (options.prescreen < 1.0) {
      ScreeningOptions so;
      so.keep_fraction = options.prescreen;
      out.screened = std::make_shared<ScreenedAccuracy>(space, out.supernet, so);
      out.predictor = out.screened;
    }
  } else if (take(spec, "external", &rest)) {
    ExternalAccuracyOptions eo{rest};
    if (options.timeout_s > 0) eo.timeout_s = options.timeout_s;
    out.predictor = std::make_shared<ExternalAccuracy>(space, eo);
  } else if (take(spec, "surrogate", &rest)) {
    out.predictor = SurrogateAccuracy::from_csv(space, rest);
  } else {
    throw Error("--accuracy '" + spec +
                "' is not supernet:FILE, external:CMD or surrogate:FILE.csv");
  }
  return out;
}

}  // namespace hwnas
