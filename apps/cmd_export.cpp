// `hwnas export`: a run's front and evaluations as JSON, CSV, ONNX, SVG or an HTML report.
#include <filesystem>
#include <iostream>

#include "apps/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
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
  }

  int run() override {
    static const std::vector<std::string> formats = {"json", "csv", "onnx", "svg", "html"};
    if (std::find(formats.begin(), formats.end(), format_) == formats.end())
      throw Error("unknown --format '" + format_ + "'; use json, csv, onnx, svg or html");
    const RunData run = load_run(run_dir_);
    const SearchSpace& space = get_space(run.front.at("space").get<std::string>());
    const std::string& db = run.config.db;
    const std::string& device = run.config.device;
    if (format_ == "json") {
      const std::string path = out_.empty() ? run_dir_ + "/export.json" : out_;
      write_file_atomic(
          path,
          export_members_json(run, space, select_members(run, space, members_)).dump(2) + "\n");
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
        const auto info =
            export_onnx(net, source.weights(m.arch, net, seed), dir + "/" + m.name + ".onnx");
        std::cout << "wrote " << info.path << " (" << info.nodes << " nodes, " << info.parameters
                  << " weights, "
                  << (source.source().empty() ? "random init seed " + std::to_string(seed)
                                              : "from " + source.source())
                  << ")\n";
      }
    }
    return 0;
  }

 private:
  std::string run_dir_, format_, out_, members_ = "front", weights_ = "run";
};

HWNAS_REGISTER_COMMAND(
    ExportCommand, "export",
    "Export a run's front: json, csv, onnx (opset 17), svg or a self-contained html report");

}  // namespace
}  // namespace hwnas::apps
