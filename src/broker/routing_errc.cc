#include "broker/routing_errc.h"

namespace tern::broker {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "routing"; }
  std::string message(int c) const override {
    switch (static_cast<routing_errc>(c)) {
      case routing_errc::not_found:
        return "not found";
      case routing_errc::access_refused:
        return "access refused";
      case routing_errc::precondition_failed:
        return "precondition failed";
      case routing_errc::corrupt_metadata:
        return "corrupt routing metadata";
    }
    return "unknown routing error";
  }
};
}  // namespace

const std::error_category& routing_category() {
  static category c;
  return c;
}

}  // namespace tern::broker
