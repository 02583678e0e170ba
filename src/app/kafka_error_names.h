#pragma once
// Kafka's wire error codes by name (as in org.apache.kafka.common.protocol.Errors), so the admin
// commands can say "TOPIC_ALREADY_EXISTS" rather than "error 36". Clients are told codes only;
// the names are what users search for.

#include <cstdint>
#include <string_view>

namespace tern::app {

// The name of `code`; "NONE" for 0, "UNKNOWN_ERROR_CODE" for codes Kafka does not define.
std::string_view kafka_error_name(int16_t code);

}  // namespace tern::app
