#include "apps/backend_choice.h"

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

}  // namespace hwnas::apps
