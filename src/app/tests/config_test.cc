#include "app/config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "app/cli_serve.h"
#include "app/config_keys.h"

namespace tern::app {
namespace {

// A fake environment, so tests never read or change the real one.
struct fake_env {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// A TOML file in a fresh temporary directory.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(std::string_view text) {
    auto dir = std::filesystem::temp_directory_path() /
               ("tern_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
    std::filesystem::create_directories(dir);
    path = dir / "tern.toml";
    std::ofstream(path) << text;
  }
  ~temp_file() { std::filesystem::remove_all(path.parent_path()); }
  static inline int n = 0;
};

TEST(Config, DefaultsAreValid) {
  config cfg;
  EXPECT_EQ(load_config(cfg, {}), "");
  EXPECT_EQ(cfg.kafka_listen, "127.0.0.1:9092");
  EXPECT_EQ(cfg.segment_ms, 7 * k_day_ms);
  EXPECT_EQ(cfg.flush, "always");
}

TEST(Config, FileSetsEveryKindOfValue) {
  config cfg;
  EXPECT_EQ(apply_toml(cfg, R"(
data = "/var/lib/tern"
smp = 4
[kafka]
listen = "0.0.0.0:19092"
auto_create_topics = false
[limits]
global_memory_bytes = 2_000_000_000
[storage]
flush = "interval"
retention_ms = -1
)",
                       "t.toml"),
            "");
  EXPECT_EQ(cfg.data_dir, "/var/lib/tern");
  EXPECT_EQ(cfg.smp, 4u);
  EXPECT_EQ(cfg.kafka_listen, "0.0.0.0:19092");
  EXPECT_FALSE(cfg.auto_create_topics);
  EXPECT_EQ(cfg.global_memory_bytes, 2'000'000'000u);
  EXPECT_EQ(cfg.flush, "interval");
  EXPECT_EQ(cfg.retention_ms, -1);
}

TEST(Config, PrecedenceFileThenEnvThenFlags) {
  temp_file file(R"(
smp = 2
node_id = 7
[storage]
flush = "never"
segment_bytes = 1000
)");
  fake_env env{{{"TERN_SMP", "3"}, {"TERN_STORAGE_FLUSH", "interval"}}};
  config cfg;
  ASSERT_EQ(load_config(cfg, {file.path, env.fn(), {{"storage.flush", "always"}}}), "");
  EXPECT_EQ(cfg.node_id, 7);            // file only
  EXPECT_EQ(cfg.segment_bytes, 1000u);  // file only
  EXPECT_EQ(cfg.smp, 3u);               // env over file
  EXPECT_EQ(cfg.flush, "always");       // flag over env over file
  EXPECT_EQ(cfg.log_level, "info");     // nobody: default
}

TEST(Config, EmptyEnvVariableDisablesListener) {
  fake_env env{{{"TERN_KAFKA_LISTEN", ""}}};
  config cfg;
  ASSERT_EQ(load_config(cfg, {std::nullopt, env.fn(), {}}), "");
  EXPECT_EQ(cfg.kafka_listen, "");
}

TEST(Config, UnknownTomlKeyIsNamed) {
  config cfg;
  EXPECT_EQ(apply_toml(cfg, "[storage]\nflush_every = 3\n", "t.toml"),
            "t.toml: unknown key \"storage.flush_every\"");
  EXPECT_EQ(apply_toml(cfg, "colour = 1\n", "t.toml"), "t.toml: unknown key \"colour\"");
  EXPECT_EQ(apply_toml(cfg, "[mqtt]\nlisten = \":1883\"\n", "t.toml"),
            "t.toml: unknown key \"mqtt\"");
}

TEST(Config, SectionMustBeATable) {
  config cfg;
  EXPECT_EQ(apply_toml(cfg, "kafka = 1\n", "t.toml"), "t.toml: kafka: expected a table ([kafka])");
}

TEST(Config, TomlTypeMismatchIsNamed) {
  config cfg;
  EXPECT_EQ(apply_toml(cfg, "smp = \"4\"\n", "t.toml"), "t.toml: smp: expected an integer");
  EXPECT_EQ(apply_toml(cfg, "[kafka]\nauto_create_topics = 1\n", "t.toml"),
            "t.toml: kafka.auto_create_topics: expected true or false");
  EXPECT_EQ(apply_toml(cfg, "[kafka]\nlisten = 9092\n", "t.toml"),
            "t.toml: kafka.listen: expected a string");
}

TEST(Config, TomlSyntaxErrorHasLine) {
  config cfg;
  std::string e = apply_toml(cfg, "smp = 1\nsmp = = 2\n", "t.toml");
  EXPECT_EQ(e.rfind("t.toml:2:", 0), 0u) << e;
}

TEST(Config, BadFlushNamesTheKeyInEachLayer) {
  config cfg;
  EXPECT_EQ(apply_toml(cfg, "[storage]\nflush = \"sometimes\"\n", "t.toml"),
            "t.toml: storage.flush: \"sometimes\" is not one of always, interval, never");
  fake_env env{{{"TERN_STORAGE_FLUSH", "sometimes"}}};
  EXPECT_EQ(apply_env(cfg, env.fn()),
            "TERN_STORAGE_FLUSH: \"sometimes\" is not one of always, interval, never");
  EXPECT_EQ(load_config(cfg, {std::nullopt, {}, {{"storage.flush", "sometimes"}}}),
            "--flush: \"sometimes\" is not one of always, interval, never");
  EXPECT_EQ(cfg.flush, "always");  // a rejected value leaves the field alone
}

TEST(Config, IntegersAreRangeChecked) {
  config cfg;
  EXPECT_EQ(set_key(cfg, "kafka.default_partitions", "0", "--default-partitions"),
            "--default-partitions: 0 is out of range (1 to 1000000)");
  EXPECT_EQ(set_key(cfg, "smp", "-1", "TERN_SMP"),
            "TERN_SMP: \"-1\" is not a non-negative integer");
  EXPECT_EQ(set_key(cfg, "smp", "4x", "TERN_SMP"),
            "TERN_SMP: \"4x\" is not a non-negative integer");
  EXPECT_EQ(set_key(cfg, "smp", "", "TERN_SMP"), "TERN_SMP: \"\" is not a non-negative integer");
  EXPECT_EQ(set_key(cfg, "storage.retention_ms", "-2", "x"),
            "x: -2 is out of range (-1 to "
            "9223372036854775807)");
  EXPECT_EQ(set_key(cfg, "storage.segment_bytes", "0", "x"),
            "x: 0 is out of range (1 to 2147483647)");
  EXPECT_EQ(set_key(cfg, "node_id", "99999999999", "x"),
            "x: 99999999999 is out of range (0 to 2147483647)");
  EXPECT_EQ(set_key(cfg, "limits.global_memory_bytes", "9223372036854775808", "x"),
            "x: 9223372036854775808 is out of range (1 to 9223372036854775807)");
  EXPECT_EQ(apply_toml(cfg, "[limits]\nrequest_timeout_ms = 0\n", "t.toml"),
            "t.toml: limits.request_timeout_ms: 0 is out of range (1 to 9223372036854775807)");
}

TEST(Config, BooleansAcceptCommonSpellings) {
  config cfg;
  EXPECT_EQ(set_key(cfg, "kafka.auto_create_topics", "FALSE", "x"), "");
  EXPECT_FALSE(cfg.auto_create_topics);
  EXPECT_EQ(set_key(cfg, "kafka.auto_create_topics", "on", "x"), "");
  EXPECT_TRUE(cfg.auto_create_topics);
  EXPECT_EQ(set_key(cfg, "kafka.auto_create_topics", "maybe", "x"),
            "x: \"maybe\" is not a boolean (true or false)");
}

TEST(Config, ListenAddressMustBeHostPort) {
  config cfg;
  EXPECT_EQ(set_key(cfg, "kafka.listen", "localhost", "--kafka-listen"),
            "--kafka-listen: \"localhost\" is not HOST:PORT");
  EXPECT_NE(set_key(cfg, "kafka.listen", "localhost:99999", "x"), "");
  EXPECT_NE(set_key(cfg, "kafka.listen", "a b:9092", "x"), "");
  EXPECT_NE(set_key(cfg, "kafka.listen", "::1:9092", "x"), "");  // v6 needs brackets
  EXPECT_EQ(set_key(cfg, "kafka.listen", "[::1]:9092", "x"), "");
  EXPECT_EQ(set_key(cfg, "kafka.listen", "", "x"), "");
}

TEST(Config, ParseHostPort) {
  auto a = parse_host_port("[::1]:9092");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 9092);
  auto b = parse_host_port(":0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "0.0.0.0");
  EXPECT_EQ(b->port, 0);
  EXPECT_FALSE(parse_host_port("host:"));
  EXPECT_FALSE(parse_host_port("[::1]9092"));
  EXPECT_FALSE(parse_host_port("host:+1"));
}

TEST(Config, CrossKeyCheck) {
  config cfg;
  EXPECT_EQ(load_config(cfg, {std::nullopt, {}, {{"limits.global_memory_bytes", "1000"}}}),
            "limits.connection_memory_bytes (67108864) must not exceed "
            "limits.global_memory_bytes (1000)");
}

TEST(Config, MissingFileIsAnError) {
  config cfg;
  EXPECT_EQ(load_config(cfg, {"/nonexistent/tern.toml", {}, {}}),
            "cannot read config file /nonexistent/tern.toml");
}

TEST(ConfigKeys, EnvNames) {
  EXPECT_EQ(env_name(*find_config_key("data")), "TERN_DATA");
  EXPECT_EQ(env_name(*find_config_key("kafka.listen")), "TERN_KAFKA_LISTEN");
  EXPECT_EQ(env_name(*find_config_key("limits.global_memory_bytes")),
            "TERN_LIMITS_GLOBAL_MEMORY_BYTES");
}

TEST(ConfigKeys, PathsAndFlagsAreUnique) {
  std::set<std::string_view> paths, flags;
  for (auto& k : config_keys()) {
    EXPECT_TRUE(paths.insert(k.path).second) << k.path;
    EXPECT_TRUE(flags.insert(k.flag).second) << k.flag;
  }
}

// Every default must be printable and load back to itself (--print-config round trip).
TEST(ConfigKeys, PrintedConfigLoadsBack) {
  config cfg;
  ASSERT_EQ(set_key(cfg, "data", "/tmp/a \"quoted\" dir", "x"), "");
  ASSERT_EQ(set_key(cfg, "limits.global_memory_bytes", "9223372036854775807", "x"), "");
  config back;
  ASSERT_EQ(apply_toml(back, to_toml(cfg), "printed"), "");
  for (auto& k : config_keys()) EXPECT_EQ(k.get(back), k.get(cfg)) << k.path;
}

// The example tern.toml at the repository root must stay loadable, name every key and show the
// defaults the code really has.
TEST(ConfigKeys, ExampleFileHasEveryKeyAtItsDefault) {
  std::filesystem::path example = std::filesystem::path(TERN_SOURCE_DIR) / "tern.toml";
  std::ifstream in(example);
  ASSERT_TRUE(in) << example;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  config cfg;
  EXPECT_EQ(apply_toml(cfg, text, "tern.toml"), "");
  const config defaults;
  for (auto& k : config_keys()) {
    EXPECT_EQ(k.get(cfg), k.get(defaults)) << k.path;
    auto dot = k.path.find('.');
    std::string name(dot == std::string_view::npos ? k.path : k.path.substr(dot + 1));
    EXPECT_NE(text.find(name + " ="), std::string::npos) << k.path;
  }
}

// docs/configuration.md is written by hand; make sure it does not forget a key.
TEST(ConfigKeys, ReferenceDocumentsEveryKey) {
  std::ifstream in(std::filesystem::path(TERN_SOURCE_DIR) / "docs" / "configuration.md");
  ASSERT_TRUE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto& k : config_keys()) {
    EXPECT_NE(text.find("`" + env_name(k) + "`"), std::string::npos) << k.path;
    EXPECT_NE(text.find("`--" + std::string(k.flag) + " "), std::string::npos) << k.path;
  }
}

}  // namespace
}  // namespace tern::app
