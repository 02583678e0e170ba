#include "broker/errc.h"

#include <string>

namespace tern::broker {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "broker"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::unknown_topic_or_partition: return "unknown topic or partition";
      case errc::topic_already_exists: return "topic already exists";
      case errc::invalid_topic_name: return "invalid topic name";
      case errc::invalid_partitions: return "invalid number of partitions";
      case errc::invalid_config: return "invalid configuration";
      case errc::invalid_replication_factor: return "invalid replication factor";
      case errc::policy_violation: return "policy violation";
      case errc::record_too_large: return "record batch larger than max.message.bytes";
      case errc::offset_out_of_range: return "offset out of range";
      case errc::topic_being_deleted: return "topic is being deleted";
      case errc::storage_error: return "storage error";
      case errc::invalid_request: return "invalid request";
      case errc::not_controller: return "not the controller";
      case errc::shutting_down: return "broker is shutting down";
      case errc::out_of_order_sequence: return "out of order sequence number";
      case errc::invalid_producer_epoch: return "producer epoch is older than the current one";
      case errc::unknown_producer_id: return "unknown producer id";
      case errc::invalid_producer_fields:
        return "batch has a producer id but a negative epoch or sequence";
    }
    return "unknown broker error";
  }
};
}  // namespace

const std::error_category& broker_category() {
  static category c;
  return c;
}

}  // namespace tern::broker
