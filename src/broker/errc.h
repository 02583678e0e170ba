#pragma once
// Errors of the protocol-neutral broker core. Each protocol maps these (and storage::errc)
// to its wire codes in one place (kafka/errors.cc for Kafka).

#include <system_error>

namespace tern::broker {

enum class errc {
  unknown_topic_or_partition = 1,
  topic_already_exists,
  invalid_topic_name,
  invalid_partitions,
  invalid_config,
  invalid_replication_factor,
  policy_violation,
  record_too_large,
  offset_out_of_range,
  topic_being_deleted,
  storage_error,
  invalid_request,
  not_controller,
  shutting_down,
  // Idempotent produce (producer_state.h):
  out_of_order_sequence,   // a gap or overlap in a producer's sequence numbers
  invalid_producer_epoch,  // fenced: an older epoch of the producer id
  unknown_producer_id,
  invalid_producer_fields, // producer id set with a negative epoch or sequence
};

const std::error_category& broker_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), broker_category()}; }

}  // namespace tern::broker

template <>
struct std::is_error_code_enum<tern::broker::errc> : true_type {};
