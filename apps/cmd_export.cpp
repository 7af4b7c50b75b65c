// `hwnas export`: a run's front and evaluations as JSON, CSV, ONNX, SVG or an HTML report.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "apps/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "results/heldout_rescore.h"
#include "results/member_weights.h"
#include "results/onnx_export.h"
#include "results/run_exports.h"
#include "results/run_outputs.h"
#include "spaces/registry.h"

namespace hwnas::apps {
namespace {

namespace fs = std::filesystem;

class ExportCommand final : public Command {
 public:
  void setup(CLI::App& app) override {
    app.add_option("--run", run_dir_, "run directory (the --out of `hwnas search`)")->required();
    app.add_option("--format", format_, "json | csv | onnx | svg | html")->required();
    app.add_option("--out", out_,
                   "output file (a directory for onnx); default in the run directory: "
                   "export.json, evaluations.csv, onnx/, front.svg, report.html");
    app.add_option("--members", members_, "all | front | N (the first N front members)")
        ->capture_default_str();
    app.add_option("--weights", weights_,
                   "onnx: run (the run's supernet, sliced per member with BN recalibrated as the "
                   "search scored it; random init when the run had none) | random | FILE (a "
                   "supernet checkpoint or a subnet's safetensors)")
        ->capture_default_str();
    app.add_option("--rescore", rescore_,
                   "json: re-score the members' accuracy on this split of the run's dataset "
                   "(test: the held-out test images the search never saw) with the run's "
                   "supernet, and mark the members that evaluation shows dominated")
        ->check(CLI::IsMember({"test", "val"}));
    app.add_option("--rescore-samples", rescore_samples_,
                   "--rescore: images scored per member (0 = the whole split)")
        ->capture_default_str();
    app.add_option("--threads", threads_, "--rescore: engine threads")->capture_default_str();
  }

  int run() override {
    static const std::vector<std::string> formats = {"json", "csv", "onnx", "svg", "html"};
    if (std::find(formats.begin(), formats.end(), format_) == formats.end())
      throw Error("unknown --format '" + format_ + "'; use json, csv, onnx, svg or html");
    const RunData run = load_run(run_dir_);
    const SearchSpace& space = get_space(run.front.at("space").get<std::string>());
    const std::string& db = run.config.db;
    const std::string& device = run.config.device;
    if (!rescore_.empty() && format_ != "json")
      throw Error("--rescore writes its result into the JSON export: use --format json");
    if (format_ == "json") {
      const std::string path = out_.empty() ? run_dir_ + "/export.json" : out_;
      const auto members = select_members(run, space, members_);
      nlohmann::json j = export_members_json(run, space, members);
      if (!rescore_.empty()) add_heldout(j, run, space, members);
      write_file_atomic(path, j.dump(2) + "\n");
      std::cout << "wrote " << path << "\n";
    } else if (format_ == "csv") {
      const std::string path = out_.empty() ? run_dir_ + "/evaluations.csv" : out_;
      write_file_atomic(path, evaluations_csv(run, space));
      std::cout << "wrote " << path << " (" << run.evaluations.size() << " evaluations)\n";
    } else if (format_ == "svg") {
      const std::string path = out_.empty() ? run_dir_ + "/front.svg" : out_;
      const auto table = try_open_table(db, device);
      write_file_atomic(path, render_svg(front_chart(run, space, table.get())));
      std::cout << "wrote " << path << "\n";
    } else if (format_ == "html") {
      const std::string path = out_.empty() ? run_dir_ + "/report.html" : out_;
      const auto table = try_open_table(db, device);
      const std::string svg = render_svg(front_chart(run, space, table.get()));
      write_file_atomic(path,
                        render_html_report(run_report(run, space, device_json(db, device), svg)));
      std::cout << "wrote " << path << "\n";
    } else {
      const std::string dir = out_.empty() ? run_dir_ + "/onnx" : out_;
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (!fs::is_directory(dir)) throw Error("cannot create ONNX output directory '" + dir + "'");
      const std::uint64_t seed = run.front.value("seed", std::uint64_t{0});
      MemberWeights source(run, space, weights_);
      for (const auto& m : select_members(run, space, members_)) {
        const Network net = space.decode(m.arch);
        const std::optional<QuantPlan> plan = source.int8_plan(m.arch);
        OnnxExportOptions o;
        o.int8 = plan ? &*plan : nullptr;
        const auto info =
            export_onnx(net, source.weights(m.arch, net, seed), dir + "/" + m.name + ".onnx", o);
        std::cout << "wrote " << info.path << " (" << info.nodes << " nodes, " << info.parameters
                  << " weights, "
                  << (source.source().empty() ? "random init seed " + std::to_string(seed)
                                              : "from " + source.source())
                  << (plan ? ", int8 QDQ: " + std::to_string(plan->layers.size()) +
                                 " quantized GEMM layers, " +
                                 std::to_string(plan->depthwise.size()) + " depthwise" +
                                 (plan->depthwise_fp32.empty()
                                      ? ""
                                      : " (" + std::to_string(plan->depthwise_fp32.size()) +
                                            " kept fp32)")
                           : "")
                  << ")\n";
      }
    }
    return 0;
  }

 private:
  // Held-out accuracies into the export's members and a summary line on stdout.
  void add_heldout(nlohmann::json& j, const RunData& run, const SearchSpace& space,
                   const std::vector<ExportMember>& members) const {
    const HeldoutRescore h =
        rescore_heldout(run, space, members, rescore_, rescore_samples_, threads_);
    for (std::size_t i = 0; i < h.members.size(); ++i) {
      const HeldoutScore& m = h.members[i];
      j["members"][i]["heldout"] = {
          {"split", h.split},
          {"accuracy", m.accuracy},
          {"samples", m.samples},
          {"interval", {m.interval.lo, m.interval.hi}},
          {"dominated_by",
           m.dominated_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.dominated_by)},
          {"dominated_beyond_interval", m.beyond_interval}};
    }
    j["heldout"] = {{"split", h.split},
                    {"source", h.source},
                    {"members", h.members.size()},
                    {"dominated", h.dominated()},
                    {"dominated_beyond_interval", h.dominated_beyond_interval()},
                    {"seconds", h.seconds},
                    {"note",
                     "a member is dominated when another is no worse in every objective and "
                     "better in one with the held-out accuracy; beyond its interval when that "
                     "member's held-out accuracy exceeds the upper end of its 95 % interval"}};
    std::printf(
        "held-out re-score on %s (%zu images each): %zu of %zu members dominated, %zu "
        "by more than their 95 %% interval (%.1f s)\n",
        h.split.c_str(), h.members.empty() ? std::size_t{0} : h.members.front().samples,
        h.dominated(), h.members.size(), h.dominated_beyond_interval(), h.seconds);
    for (const auto& m : h.members)
      std::printf("  %s top-1 %.4f [%.4f, %.4f]%s%s\n", m.name.c_str(), m.accuracy, m.interval.lo,
                  m.interval.hi, m.dominated_by.empty() ? "" : " dominated by ",
                  m.dominated_by.empty()
                      ? ""
                      : (m.dominated_by +
                         (m.beyond_interval ? " (beyond its interval)" : " (within its interval)"))
                            .c_str());
    std::fflush(stdout);
  }

  std::string run_dir_, format_, out_, members_ = "front", weights_ = "run", rescore_;
  std::size_t rescore_samples_ = 0;
  int threads_ = 2;
};

HWNAS_REGISTER_COMMAND(
    ExportCommand, "export",
    "Export a run's front: json, csv, onnx (opset 17), svg or a self-contained html report");

}  // namespace
}  // namespace hwnas::apps
