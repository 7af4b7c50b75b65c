#include "profilers/backend_registry.h"

#include <map>
#include <mutex>

#include "core/error.h"
#include "profilers/agent_backend.h"
#include "profilers/fake_backend.h"
#include "profilers/local_backend.h"

namespace hwnas {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, BackendFactory> factories;
  Registry();
};

// The built-in backends are entered here, not by static initialisers in their own files: a
// static library drops an object file nothing references, and its registration with it.
Registry::Registry() {
  factories["local"] = [](const BackendSpec& s) -> std::unique_ptr<Backend> {
    return std::make_unique<LocalBackend>(s.threads, s.batch, s.seed, s.block_timing, s.precision);
  };
  factories["fake"] = [](const BackendSpec& s) -> std::unique_ptr<Backend> {
    FakeBackendOptions fo;
    fo.seed = s.seed;
    fo.threads = s.threads;
    return std::make_unique<FakeBackend>(fo);
  };
  factories["agent"] = [](const BackendSpec& s) -> std::unique_ptr<Backend> {
    if (s.url.empty()) throw Error("the agent backend needs a URL: give --agent http://HOST:PORT");
    return std::make_unique<AgentBackend>(s.url, s.token);
  };
}

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_backend(const std::string& name, BackendFactory factory) {
  if (name.empty() || !factory) throw Error("register_backend: empty name or factory");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.factories.emplace(name, std::move(factory)).second)
    throw Error("backend '" + name + "' is already registered");
}

std::vector<std::string> backend_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

std::unique_ptr<Backend> make_backend(const BackendSpec& spec) {
  BackendFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (const auto it = r.factories.find(spec.name); it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown backend '" + spec.name + "'; known: " + known);
  }
  return factory(spec);
}

BackendSpec backend_for_device(const DeviceProfile& profile, const std::string& agent_url,
                               const std::string& token) {
  BackendSpec s;
  s.threads = profile.threads;
  s.batch = profile.batch;
  s.precision = profile.precision;
  if (profile.runtime.rfind("hwnas-fake", 0) == 0) {
    // FakeBackend::device() writes "fake-cpu seed=<seed>"; the seed is the fake device's identity.
    const std::string tag = "seed=";
    const auto at = profile.cpu_model.find(tag);
    try {
      if (at == std::string::npos) throw std::invalid_argument("no seed");
      s.seed = std::stoull(profile.cpu_model.substr(at + tag.size()));
    } catch (const std::exception&) {
      throw Error("device '" + profile.name + "' has a fake runtime but cpu_model '" +
                  profile.cpu_model +
                  "' holds no seed; re-create it with `hwnas profile --backend fake`");
    }
    s.name = "fake";
    return s;
  }
  // results/onnxruntime_backend.h writes "onnxruntime <version> ..."; it registers itself.
  if (profile.runtime.rfind("onnxruntime ", 0) == 0) {
    s.name = "onnxruntime";
    // Its rows were all timed hot before the block timing was chosen for it (2026-12-05); a
    // table that stores a choice overrides this (search --fill: stored_block_timing).
    s.block_timing = BlockTiming::hot;
    return s;
  }
  s.name = agent_url.empty() ? "local" : "agent";
  s.url = agent_url;
  s.token = token;
  return s;
}

}  // namespace hwnas
