// ExternalAccuracy with small scripts as CMD: answers, crashes, garbage, timeouts, and a run
// that stays resumable after CMD fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "predictors/external_accuracy.h"
#include "results/run_store.h"
#include "search/algorithm_registry.h"
#include "search/search_runner.h"
#include "tests/search/toy_spaces.h"
#include "tests/support/test_support.h"

namespace hwnas {
namespace {

using test::error_of;

// Accuracy = (width0 + width1) / 1000, computed by the script from the arch JSON.
const char* kGoodScript = R"(import json, sys
for line in sys.stdin:
    req = json.loads(line)
    a = req["arch"]
    print(json.dumps({"id": req["id"], "accuracy": (a["width0"] + a["width1"]) / 1000.0}), flush=True)
)";

std::string write_script(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

class ExternalAccuracyTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("hwnas-external"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<Arch> archs(int n) {
    Rng rng(1);
    std::vector<Arch> out;
    for (int i = 0; i < n; ++i) out.push_back(space_->sample(rng));
    return out;
  }
  std::string dir_;
  std::unique_ptr<test::ToySpace> space_ = test::make_slim_space();
};

TEST_F(ExternalAccuracyTest, ScoresArchsThroughJsonLines) {
  ExternalAccuracy ext(*space_, {"python3 " + write_script(dir_, "good.py", kGoodScript), 30});
  const auto a = archs(20);
  const auto acc = ext.predict(a);
  ASSERT_EQ(acc.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_DOUBLE_EQ(acc[i], (a[i].genes[0] + a[i].genes[1]) / 1000.0);
  EXPECT_EQ(ext.predict(a), acc);  // the same process keeps answering
}

TEST_F(ExternalAccuracyTest, CrashIsAClearErrorWithStderr) {
  const std::string script = write_script(
      dir_, "crash.py",
      "import sys\nsys.stdin.readline()\nsys.stderr.write('CUDA out of memory\\n')\nsys.exit(3)\n");
  ExternalAccuracy ext(*space_, {"python3 " + script, 30});
  const auto two = archs(2);
  const std::string msg = error_of([&] { ext.predict({two[0]}); });
  EXPECT_NE(msg.find("python3 " + script), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exit status 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CUDA out of memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find(space_->to_json(two[0]).dump()), std::string::npos) << msg;
  EXPECT_THROW(ext.predict({two[0]}), EvaluationFailure);
  // The next arch gets a fresh process (which crashes again, naming that arch).
  const std::string again = error_of([&] { ext.predict({two[1]}); });
  EXPECT_NE(again.find("exit status 3"), std::string::npos) << again;
  EXPECT_NE(again.find(space_->to_json(two[1]).dump()), std::string::npos) << again;
}

TEST_F(ExternalAccuracyTest, AHangFailsOnlyItsArchAndTheNextArchIsAnswered) {
  // Hangs on the arch whose width0 is the smallest choice, answers the others.
  const std::string script = write_script(dir_, "hang.py",
                                          std::string(R"(import json, sys, time
for line in sys.stdin:
    req = json.loads(line)
    a = req["arch"]
    if a["width0"] == )") + std::to_string(space_->dims()[0].options.front()) +
                                              R"(:
        time.sleep(60)
    print(json.dumps({"id": req["id"], "accuracy": (a["width0"] + a["width1"]) / 1000.0}), flush=True)
)");
  ExternalAccuracy ext(*space_, {"python3 " + script, 1.0});
  Arch hang = space_->smallest(), ok = space_->largest();
  const std::string msg = error_of([&] { ext.predict({hang}); });
  EXPECT_NE(msg.find("did not answer within"), std::string::npos) << msg;
  const auto acc = ext.predict({ok});
  EXPECT_DOUBLE_EQ(acc[0], (ok.genes[0] + ok.genes[1]) / 1000.0);
}

TEST_F(ExternalAccuracyTest, GarbageIsAClearErrorQuotingTheLine) {
  ExternalAccuracy ext(*space_, {"sh -c 'read x; echo loading weights...; sleep 5'", 30});
  const std::string msg = error_of([&] { ext.predict(archs(1)); });
  EXPECT_NE(msg.find("not a JSON object"), std::string::npos) << msg;
  EXPECT_NE(msg.find("loading weights..."), std::string::npos) << msg;
}

TEST_F(ExternalAccuracyTest, WrongIdErrorKeyAndTimeout) {
  ExternalAccuracy wrong(
      *space_, {"sh -c 'read x; echo \"{\\\"id\\\": 41, \\\"accuracy\\\": 0.5}\"; sleep 5'", 30});
  EXPECT_NE(error_of([&] { wrong.predict(archs(1)); }).find("wrong or no id"), std::string::npos);
  ExternalAccuracy err(
      *space_,
      {"sh -c 'read x; echo \"{\\\"id\\\": 0, \\\"error\\\": \\\"no weights\\\"}\"; sleep 5'", 30});
  EXPECT_NE(error_of([&] { err.predict(archs(1)); }).find("no weights"), std::string::npos);
  ExternalAccuracy slow(*space_, {"sleep 10", 0.3});
  const std::string msg = error_of([&] { slow.predict(archs(1)); });
  EXPECT_NE(msg.find("did not answer within"), std::string::npos) << msg;
  EXPECT_NE(msg.find("flush"), std::string::npos) << msg;
}

TEST_F(ExternalAccuracyTest, ACrashFailsOneEvaluationAndTheSearchGoesOn) {
  // CMD answers 12 requests then crashes: the 13th arch is a failed evaluation (stored with
  // CMD's stderr), a fresh CMD answers the rest, and the front holds only evaluated archs.
  const std::string flaky = write_script(dir_, "flaky.py", std::string(R"(import json, sys
n = 0
for line in sys.stdin:
    n += 1
    if n > 12:
        sys.stderr.write("segfault in evaluator\n"); sys.exit(139)
    req = json.loads(line)
    a = req["arch"]
    print(json.dumps({"id": req["id"], "accuracy": (a["width0"] + a["width1"]) / 1000.0}), flush=True)
)"));
  const std::string good = "python3 " + write_script(dir_, "good.py", kGoodScript);
  auto run = [&](const std::string& cmd, const std::string& db, std::size_t max_failures) {
    auto latency = std::make_shared<MacsObjective>(*space_, Sense::minimize);
    auto acc = std::make_shared<AccuracyObjective>(
        std::make_shared<ExternalAccuracy>(*space_, ExternalAccuracyOptions{cmd, 30}));
    Problem p(*space_, {latency, acc});
    AlgorithmSetup ao;
    ao.name = "nsga2";
    ao.population = 4;
    ao.seed = 2;
    auto alg = make_algorithm(ao, p);
    RunStore store(db);
    store.bind(p);
    RunnerOptions opt;
    opt.max_evaluations = 20;
    opt.max_failures = max_failures;
    return SearchRunner(p, *alg, opt, &store).run();
  };
  const auto straight = run(good, dir_ + "/a.db", 10);
  EXPECT_EQ(straight.failed, 0u);
  const auto flaky_run = run("python3 " + flaky, dir_ + "/b.db", 10);
  ASSERT_EQ(flaky_run.archive.size(), 20u);
  EXPECT_EQ(flaky_run.failed, 1u);
  for (std::size_t i = 0; i < flaky_run.archive.size(); ++i) {
    const Evaluation& e = flaky_run.archive[i];
    if (i < 13) {
      EXPECT_EQ(e.arch, straight.archive[i].arch) << i;  // same until the failure
    }
    if (i == 12) {
      EXPECT_TRUE(e.failed());
      EXPECT_NE(e.failure.find("segfault in evaluator"), std::string::npos) << e.failure;
      EXPECT_NE(e.failure.find("exit status 139"), std::string::npos) << e.failure;
      EXPECT_FALSE(e.feasible());
      continue;
    }
    EXPECT_FALSE(e.failed()) << i << ": " << e.failure;
    EXPECT_DOUBLE_EQ(e.objectives[1], (e.arch.genes[0] + e.arch.genes[1]) / 1000.0) << i;
  }
  for (std::size_t f : flaky_run.front) EXPECT_FALSE(flaky_run.archive[f].failed());
  const auto stored = RunStore(dir_ + "/b.db", /*create=*/false).evaluations();
  ASSERT_EQ(stored.size(), 20u);
  EXPECT_NE(stored[12].failure.find("segfault in evaluator"), std::string::npos);
  EXPECT_TRUE(stored[12].objectives["accuracy"].is_null());
  EXPECT_FALSE(stored[12].feasible);

  // --max-failures 0: the generation with the failure is saved, then the run stops; a resume
  // with a working CMD keeps the failure and finishes the budget.
  const std::string msg = error_of([&] { run("python3 " + flaky, dir_ + "/c.db", 0); });
  EXPECT_NE(msg.find("--max-failures"), std::string::npos) << msg;
  EXPECT_NE(msg.find("segfault in evaluator"), std::string::npos) << msg;
  EXPECT_EQ(RunStore(dir_ + "/c.db", /*create=*/false).evaluation_count(), 14u);
  const auto resumed = run(good, dir_ + "/c.db", 0);
  EXPECT_TRUE(resumed.resumed);
  ASSERT_EQ(resumed.archive.size(), 20u);
  EXPECT_EQ(resumed.failed, 1u);
  EXPECT_TRUE(resumed.archive[12].failed());
  EXPECT_EQ(resumed.archive[12].arch, flaky_run.archive[12].arch);
  for (std::size_t f : resumed.front) EXPECT_FALSE(resumed.archive[f].failed());
}

TEST_F(ExternalAccuracyTest, EmptyCommandRejected) {
  EXPECT_THROW(ExternalAccuracy(*space_, {"", 1}), Error);
}

}  // namespace
}  // namespace hwnas
