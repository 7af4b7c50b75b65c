#include "apps/backend_choice.h"

#include "core/error.h"
#include "profilers/agent_backend.h"
#include "profilers/fake_backend.h"
#include "profilers/local_backend.h"

namespace hwnas::apps {

std::unique_ptr<Backend> make_backend(const BackendChoice& c) {
  if (!c.agent.empty()) return std::make_unique<AgentBackend>(c.agent, c.token);
  if (c.fake) {
    FakeBackendOptions fo;
    fo.seed = c.seed;
    fo.threads = c.threads;
    return std::make_unique<FakeBackend>(fo);
  }
  return std::make_unique<LocalBackend>(c.threads, c.batch, c.seed, c.block_timing);
}

BackendChoice backend_for_device(const DeviceProfile& profile, const std::string& agent,
                                 const std::string& token) {
  BackendChoice c;
  c.threads = profile.threads;
  c.batch = profile.batch;
  if (profile.runtime.rfind("hwnas-fake", 0) == 0) {
    // FakeBackend::device() writes "fake-cpu seed=<seed>"; the seed is the fake device's identity.
    const std::string tag = "seed=";
    const auto at = profile.cpu_model.find(tag);
    try {
      if (at == std::string::npos) throw std::invalid_argument("no seed");
      c.seed = std::stoull(profile.cpu_model.substr(at + tag.size()));
    } catch (const std::exception&) {
      throw Error("device '" + profile.name + "' has a fake runtime but cpu_model '" +
                  profile.cpu_model +
                  "' holds no seed; re-create it with `hwnas profile --backend fake`");
    }
    c.fake = true;
    return c;
  }
  c.agent = agent;
  c.token = token;
  return c;
}

}  // namespace hwnas::apps
