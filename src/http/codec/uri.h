#pragma once
// Percent-encoding (RFC 3986) for paths and query strings. A path is split into segments
// before each is decoded, so "%2F" stays inside its segment: /api/queues/%2F/orders names
// the queue "orders" in the vhost "/", as in RabbitMQ's management API.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::http {

// Decodes %XX; nullopt for a '%' not followed by two hex digits. With `plus_is_space`
// (query strings, form encoding) '+' becomes ' '.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

// Encodes every byte except the unreserved ones (A-Z a-z 0-9 - . _ ~): safe as one path
// segment or one query value.
std::string percent_encode(std::string_view s);

// "/a/b%2Fc/" -> {"a", "b/c", ""}: the segments after the leading '/', each decoded.
// nullopt if the path does not start with '/' or a segment has a bad escape.
std::optional<std::vector<std::string>> split_path(std::string_view path);

// "a=1&b=&c" -> {{"a","1"},{"b",""},{"c",""}}, decoded; nullopt on a bad escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view q);

}  // namespace tern::http
