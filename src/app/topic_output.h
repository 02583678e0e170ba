#pragma once
// How the `tern topic` commands print their results: aligned columns for people, or JSON
// (--json) for scripts. Pure functions of the admin client's views, so they are tested
// without a broker.

#include <string>
#include <vector>

#include "app/admin_client.h"

namespace tern::app {

// Columns separated by two spaces, each as wide as its widest cell; the first row is the
// heading. Ends with a newline.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

std::string format_topic_list(const std::vector<topic_view>& topics, bool json);
std::string format_topic_description(const topic_view& topic, bool json);
std::string format_topic_created(const topic_view& topic, bool json);
std::string format_topic_deleted(const std::string& name, bool json);

}  // namespace tern::app
