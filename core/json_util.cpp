#include "core/json_util.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace hwnas {

void require_only_keys(const nlohmann::json& j, std::initializer_list<std::string_view> allowed,
                       std::string_view what) {
  if (!j.is_object()) throw Error(std::string(what) + " must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw Error(std::string(what) + ": unknown key '" + key + "' (allowed: " + list + ")");
    }
  }
}

const nlohmann::json& require_key(const nlohmann::json& j, std::string_view key,
                                  std::string_view what) {
  if (!j.is_object()) throw Error(std::string(what) + " must be a JSON object");
  const auto it = j.find(std::string(key));
  if (it == j.end()) throw Error(std::string(what) + ": missing key '" + std::string(key) + "'");
  return *it;
}

int require_int(const nlohmann::json& j, std::string_view what) {
  if (!j.is_number_integer())
    throw Error(std::string(what) + " must be an integer, got " + j.dump());
  const auto v = j.get<long long>();
  if (v < INT32_MIN || v > INT32_MAX)
    throw Error(std::string(what) + " is out of range: " + j.dump());
  return static_cast<int>(v);
}

std::vector<int> require_int_array(const nlohmann::json& j, int n, std::string_view what) {
  if (!j.is_array() || (n >= 0 && j.size() != static_cast<std::size_t>(n)))
    throw Error(std::string(what) + " must be an array of " +
                (n >= 0 ? std::to_string(n) + " " : std::string()) + "integers, got " + j.dump());
  std::vector<int> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(require_int(v, what));
  return out;
}

std::string require_string(const nlohmann::json& j, std::string_view what) {
  if (!j.is_string()) throw Error(std::string(what) + " must be a string, got " + j.dump());
  return j.get<std::string>();
}

nlohmann::json parse_json_text(std::string_view text, std::string_view origin) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw Error("malformed JSON in " + std::string(origin) + ": " + e.what());
  }
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "': no such file or not readable");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_json_text(buf.str(), "'" + path + "'");
}

}  // namespace hwnas
