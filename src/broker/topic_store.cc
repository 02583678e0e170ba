#include "broker/topic_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "base/logger.h"
#include "broker/errc.h"

namespace tern::broker {
namespace fs = std::filesystem;
namespace {

spdlog::logger& log() { return module_logger("broker"); }

std::string to_hex(const topic_uuid& id) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::optional<topic_uuid> from_hex(const std::string& s) {
  if (s.size() != 32) return std::nullopt;
  topic_uuid id{};
  for (size_t i = 0; i < 16; ++i) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[i] = uint8_t(hi << 4 | lo);
  }
  return id;
}

result<void> fsync_path(const fs::path& p, bool directory) {
  int fd = ::open(p.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::error_code(errno, std::system_category());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return std::error_code(err, std::system_category());
  return ok();
}

}  // namespace

bool is_valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    if (!okc) return false;
  }
  return true;
}

topic_uuid random_topic_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  topic_uuid id{};
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    std::memcpy(id.data() + i, &r, 8);
  }
  id[6] = (id[6] & 0x0f) | 0x40;  // version 4
  id[8] = (id[8] & 0x3f) | 0x80;  // variant
  return id;
}

topic_store::topic_store(fs::path data_dir)
    : _topics(data_dir / "topics"), _deleted(data_dir / "deleted") {}

fs::path topic_store::partition_dir(const std::string& topic, int32_t partition) const {
  return _topics / topic / std::to_string(partition);
}

result<std::vector<topic_metadata>> topic_store::load_all() {
  std::error_code ec;
  fs::create_directories(_topics, ec);
  if (ec) return ec;
  fs::create_directories(_deleted, ec);
  if (ec) return ec;
  for (auto& d : fs::directory_iterator(_deleted, ec)) {
    std::error_code rm;
    fs::remove_all(d.path(), rm);
    if (rm) log().warn("could not finish deleting {}: {}", d.path().string(), rm.message());
  }
  std::vector<topic_metadata> out;
  for (auto& d : fs::directory_iterator(_topics, ec)) {
    if (!d.is_directory()) continue;
    auto meta_path = d.path() / "topic.json";
    std::ifstream in(meta_path);
    if (!in) {
      log().error("topic directory {} has no readable topic.json; skipped", d.path().string());
      continue;
    }
    auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    topic_metadata t;
    bool good = j.is_object() && j.contains("name") && j["name"].is_string() &&
                j.contains("partitions") && j["partitions"].is_number_integer();
    if (good) {
      t.name = j["name"].get<std::string>();
      t.partitions = j["partitions"].get<int32_t>();
      auto id = j.contains("id") && j["id"].is_string() ? from_hex(j["id"].get<std::string>())
                                                        : std::nullopt;
      t.id = id.value_or(random_topic_uuid());
      if (j.contains("configs") && j["configs"].is_object())
        for (auto& [k, v] : j["configs"].items())
          if (v.is_string()) t.overrides[k] = v.get<std::string>();
      good = t.name == d.path().filename().string() && t.partitions > 0;
    }
    if (!good) {
      log().error("{} is corrupt; topic skipped", meta_path.string());
      continue;
    }
    out.push_back(std::move(t));
  }
  if (ec) return ec;
  return out;
}

result<void> topic_store::save(const topic_metadata& t) {
  auto dir = _topics / t.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ec;
  nlohmann::json j;
  j["name"] = t.name;
  j["id"] = to_hex(t.id);
  j["partitions"] = t.partitions;
  j["configs"] = nlohmann::json::object();
  for (auto& [k, v] : t.overrides) j["configs"][k] = v;
  auto tmp = dir / "topic.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out.flush()) return std::make_error_code(std::errc::io_error);
  }
  TERN_TRY(fsync_path(tmp, false));
  fs::rename(tmp, dir / "topic.json", ec);
  if (ec) return ec;
  TERN_TRY(fsync_path(dir, true));
  return fsync_path(_topics, true);
}

result<void> topic_store::remove(const topic_metadata& t) {
  std::error_code ec;
  auto target = _deleted / (t.name + "-" + to_hex(t.id));
  fs::rename(_topics / t.name, target, ec);
  if (ec) return ec;
  TERN_TRY(fsync_path(_topics, true));
  fs::remove_all(target, ec);
  if (ec) log().warn("could not delete {}: {} (retried at next start)", target.string(), ec.message());
  return ok();
}

}  // namespace tern::broker
