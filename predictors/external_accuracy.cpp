#include "predictors/external_accuracy.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hwnas {
namespace {

std::string shorten(const std::string& s, std::size_t n = 300) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

// The command, checked before the process starts.
const std::string& checked(const ExternalAccuracyOptions& o) {
  if (o.command.empty()) throw Error("--accuracy external:CMD needs a command after 'external:'");
  return o.command;
}

}  // namespace

ExternalAccuracy::ExternalAccuracy(const SearchSpace& space, ExternalAccuracyOptions options)
    : space_(space),
      options_(std::move(options)),
      process_(std::make_unique<LineProcess>(checked(options_), "external accuracy command",
                                             options_.timeout_s)) {}

ExternalAccuracy::~ExternalAccuracy() = default;

std::vector<double> ExternalAccuracy::predict(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const auto& arch : archs) {
    if (const auto it = answered_.find(arch.genes); it != answered_.end()) {
      out.push_back(it->second);
      continue;
    }
    if (const auto it = failed_.find(arch.genes); it != failed_.end())
      throw EvaluationFailure(it->second);
    const long id = next_id_++;
    const nlohmann::json arch_json = space_.to_json(arch);
    double accuracy = 0;
    try {
      // A crash stops one evaluation, not the search: the next one gets a fresh process.
      if (process_->broken())
        process_ = std::make_unique<LineProcess>(options_.command, "external accuracy command",
                                                 options_.timeout_s);
      const std::string line =
          process_->request(nlohmann::json{{"id", id}, {"arch", arch_json}}.dump());
      try {
        accuracy = parse_external_reply(line, id);
      } catch (const Error& e) {
        process_->fail(e.what());
      }
    } catch (const Error& e) {
      const std::string why = std::string(e.what()) + " (arch " + arch_json.dump() + ")";
      failed_.emplace(arch.genes, why);
      throw EvaluationFailure(why);
    }
    answered_.emplace(arch.genes, accuracy);
    out.push_back(accuracy);
  }
  return out;
}

double parse_external_reply(const std::string& line, long id) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  const std::string expect = " (expected {\"id\": " + std::to_string(id) +
                             ", \"accuracy\": x}; print logs to stderr, not stdout)";
  if (j.is_discarded() || !j.is_object())
    throw Error("printed a line that is not a JSON object: '" + shorten(line) + "'" + expect);
  if (!j.contains("id") || !j["id"].is_number_integer() || j["id"].get<long>() != id)
    throw Error("answered with the wrong or no id: '" + shorten(line) + "'" + expect);
  if (j.contains("error"))
    throw Error("reported an error for request " + std::to_string(id) + ": " +
                shorten(j["error"].dump()));
  if (!j.contains("accuracy") || !j["accuracy"].is_number())
    throw Error("answered without a numeric accuracy: '" + shorten(line) + "'" + expect);
  return j["accuracy"].get<double>();
}

}  // namespace hwnas
