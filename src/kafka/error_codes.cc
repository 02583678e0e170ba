#include "kafka/error_codes.h"

#include "broker/errc.h"
#include "bytes/compression.h"
#include "kafka/codec/errors.h"
#include "storage/errc.h"

namespace tern::kafka {

error_code to_kafka_error(std::error_code ec) {
  if (!ec) return error_code::none;
  if (ec.category() == broker::broker_category()) {
    switch (static_cast<broker::errc>(ec.value())) {
      case broker::errc::unknown_topic_or_partition: return error_code::unknown_topic_or_partition;
      case broker::errc::topic_already_exists: return error_code::topic_already_exists;
      case broker::errc::invalid_topic_name: return error_code::invalid_topic_exception;
      case broker::errc::invalid_partitions: return error_code::invalid_partitions;
      case broker::errc::invalid_config: return error_code::invalid_config;
      case broker::errc::invalid_replication_factor: return error_code::invalid_replication_factor;
      case broker::errc::policy_violation: return error_code::policy_violation;
      case broker::errc::record_too_large: return error_code::message_too_large;
      case broker::errc::offset_out_of_range: return error_code::offset_out_of_range;
      case broker::errc::topic_being_deleted: return error_code::unknown_topic_or_partition;
      case broker::errc::storage_error: return error_code::kafka_storage_error;
      case broker::errc::invalid_request: return error_code::invalid_request;
      case broker::errc::not_controller: return error_code::not_controller;
      case broker::errc::shutting_down: return error_code::leader_not_available;
      case broker::errc::out_of_order_sequence: return error_code::out_of_order_sequence_number;
      case broker::errc::invalid_producer_epoch: return error_code::invalid_producer_epoch;
      case broker::errc::unknown_producer_id: return error_code::unknown_producer_id;
      case broker::errc::invalid_producer_fields: return error_code::invalid_record;
    }
  }
  if (ec.category() == storage::storage_category()) {
    switch (static_cast<storage::errc>(ec.value())) {
      case storage::errc::corrupt_batch:
      case storage::errc::crc_mismatch:
      case storage::errc::record_count_mismatch:
      case storage::errc::compression_error:
      case storage::errc::unsupported_compression:
      case storage::errc::invalid_record: return error_code::corrupt_message;
      case storage::errc::unsupported_magic: return error_code::unsupported_for_message_format;
      case storage::errc::batch_too_large: return error_code::message_too_large;
      case storage::errc::invalid_timestamp: return error_code::invalid_timestamp;
      case storage::errc::offset_out_of_range: return error_code::offset_out_of_range;
      case storage::errc::io_error:
      case storage::errc::disk_full:
      case storage::errc::log_closed: return error_code::kafka_storage_error;
      default: return error_code::kafka_storage_error;
    }
  }
  if (ec.category() == bytes::compression_category()) {
    if (ec == bytes::compression_errc::output_too_large) return error_code::message_too_large;
    return error_code::corrupt_message;
  }
  if (ec.category() == codec_category()) {
    if (ec == codec_errc::unsupported_version) return error_code::unsupported_version;
    return error_code::invalid_request;
  }
  if (ec.category() == std::system_category() || ec.category() == std::generic_category())
    return error_code::kafka_storage_error;
  return error_code::unknown_server_error;
}

}  // namespace tern::kafka
