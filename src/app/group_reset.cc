#include "app/group_reset.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace tern::app {
namespace {

constexpr std::string_view k_datetime_format =
    "expected YYYY-MM-DDTHH:MM[:SS[.sss]][Z|+HH:MM|-HH:MM], e.g. 2024-05-01T12:30:00.000Z";

// Reads exactly `digits` decimal digits at `pos`; -1 if they are not there.
int read_fixed(std::string_view s, size_t& pos, size_t digits) {
  if (pos + digits > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += digits;
  return v;
}

bool take(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

std::string tp_text(const topic_partition& tp) {
  return fmt::format("{}:{}", tp.topic, tp.partition);
}

}  // namespace

admin_result<topic_spec> parse_topic_spec(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return admin_error{0, fmt::format("bad --topic '{}': {}", text, why)};
  };
  topic_spec spec;
  auto colon = text.find(':');
  spec.topic = std::string(text.substr(0, colon));
  if (spec.topic.empty()) return bad("no topic name");
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  if (rest.empty()) return bad("no partitions after ':' (expected TOPIC:P1,P2,...)");
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    int32_t p = -1;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), p);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || p < 0)
      return bad(fmt::format("'{}' is not a partition number", item));
    spec.partitions.push_back(p);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  std::sort(spec.partitions.begin(), spec.partitions.end());
  spec.partitions.erase(std::unique(spec.partitions.begin(), spec.partitions.end()),
                        spec.partitions.end());
  return spec;
}

admin_result<int64_t> parse_datetime(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return admin_error{0, fmt::format("bad date and time '{}': {}; {}", s, why, k_datetime_format)};
  };
  size_t pos = 0;
  int year = read_fixed(s, pos, 4);
  if (year < 0 || !take(s, pos, '-')) return bad("no year");
  int month = read_fixed(s, pos, 2);
  if (month < 0 || !take(s, pos, '-')) return bad("no month");
  int day = read_fixed(s, pos, 2);
  if (day < 0) return bad("no day");
  if (!take(s, pos, 'T')) return bad("no 'T' between the date and the time");
  int hour = read_fixed(s, pos, 2);
  if (hour < 0 || !take(s, pos, ':')) return bad("no hour");
  int minute = read_fixed(s, pos, 2);
  if (minute < 0) return bad("no minutes");
  int second = 0, millis = 0;
  if (take(s, pos, ':')) {
    second = read_fixed(s, pos, 2);
    if (second < 0) return bad("no seconds after ':'");
    if (take(s, pos, '.')) {
      size_t start = pos;
      int scale = 100;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        millis += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad("no digits after '.'");
    }
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > days_in_month(year, month)) return bad("day out of range");
  if (hour > 23 || minute > 59 || second > 59) return bad("time out of range");
  int64_t offset_minutes = 0;
  if (take(s, pos, 'Z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos++] == '-' ? -1 : 1;
    int oh = read_fixed(s, pos, 2);
    if (oh < 0) return bad("no hours in the zone offset");
    int om = 0;
    if (pos < s.size()) {
      take(s, pos, ':');
      om = read_fixed(s, pos, 2);
      if (om < 0) return bad("bad minutes in the zone offset");
    }
    if (oh > 18 || om > 59) return bad("zone offset out of range");
    offset_minutes = sign * (oh * 60 + om);
  }
  if (pos != s.size()) return bad(fmt::format("unexpected '{}'", s.substr(pos)));
  int64_t days = days_from_civil(year, unsigned(month), unsigned(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

admin_result<reset_plan> plan_reset(const reset_scenario& scenario,
                                    const std::vector<reset_input>& partitions) {
  reset_plan plan;
  for (auto& in : partitions) {
    if (in.earliest < 0 || in.latest < 0)
      return admin_error{
          0, fmt::format("the earliest and latest offsets of {} are unknown", tp_text(in.tp))};
    int64_t target = 0;
    switch (scenario.kind) {
      case reset_kind::earliest:
        target = in.earliest;
        break;
      case reset_kind::latest:
        target = in.latest;
        break;
      case reset_kind::offset:
        target = scenario.value;
        break;
      case reset_kind::shift_by: {
        if (in.committed < 0)
          return admin_error{0, fmt::format("cannot shift the offset of {}: the group has no "
                                            "committed offset for it",
                                            tp_text(in.tp))};
        // Saturate rather than overflow; the clamp below brings it into range.
        int64_t limit = std::numeric_limits<int64_t>::max();
        if (scenario.value > 0 && in.committed > limit - scenario.value) {
          target = limit;
        } else {
          target = in.committed + scenario.value;
        }
        break;
      }
      case reset_kind::datetime:
        if (in.at_timestamp < 0) {
          plan.warnings.push_back(
              fmt::format("no record of {} is at or after that time: using its latest offset {}",
                          tp_text(in.tp), in.latest));
          target = in.latest;
        } else {
          target = in.at_timestamp;
        }
        break;
    }
    if (target > in.latest) {
      plan.warnings.push_back(fmt::format("offset {} is past the latest offset of {}: using {}",
                                          target, tp_text(in.tp), in.latest));
      target = in.latest;
    } else if (target < in.earliest) {
      plan.warnings.push_back(fmt::format("offset {} is before the earliest offset of {}: using {}",
                                          target, tp_text(in.tp), in.earliest));
      target = in.earliest;
    }
    plan.offsets.push_back({in.tp, target, 0, {}});
  }
  return plan;
}

}  // namespace tern::app
