// Strict JSON reading helpers: nlohmann's conveniences ignore unknown keys, hwnas does not.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hwnas {

/// Throws hwnas::Error if `j` is not an object or has a key outside `allowed`, naming `what`
/// (e.g. "arch JSON"), the key and the allowed keys.
void require_only_keys(const nlohmann::json& j, std::initializer_list<std::string_view> allowed,
                       std::string_view what);
/// The member `key` of object `j`; throws hwnas::Error naming `what` and `key` if it is absent.
const nlohmann::json& require_key(const nlohmann::json& j, std::string_view key,
                                  std::string_view what);
/// An integer value (JSON number without fraction); throws hwnas::Error naming `what`.
int require_int(const nlohmann::json& j, std::string_view what);
/// An array of exactly `n` integers (n < 0: any length); throws hwnas::Error naming `what`.
std::vector<int> require_int_array(const nlohmann::json& j, int n, std::string_view what);
/// A string value; throws hwnas::Error naming `what`.
std::string require_string(const nlohmann::json& j, std::string_view what);
/// Parses JSON text; throws hwnas::Error naming `origin` (a file name or "inline --arch") and the
/// parser's position on malformed input.
nlohmann::json parse_json_text(std::string_view text, std::string_view origin);
/// Reads and parses a JSON file; throws hwnas::Error if it is missing, unreadable or malformed.
nlohmann::json read_json_file(const std::string& path);

}  // namespace hwnas
