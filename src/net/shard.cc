#include "net/shard.h"

namespace tern::net {
namespace {
thread_local int t_current_shard = -1;
}

shard_set::shard_set(unsigned count) {
  TERN_CHECK(count > 0);
  for (unsigned i = 0; i < count; ++i) {
    // concurrency_hint 1: each context is run by exactly one thread.
    _contexts.push_back(std::make_unique<asio::io_context>(1));
    _work.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        _contexts.back()->get_executor()));
  }
}

shard_set::~shard_set() {
  stop();
  join();
}

unsigned shard_set::current() {
  TERN_CHECK(t_current_shard >= 0);
  return unsigned(t_current_shard);
}

bool shard_set::on_shard_thread() { return t_current_shard >= 0; }

void shard_set::start() {
  for (unsigned i = 1; i < count(); ++i) {
    _threads.emplace_back([this, i] {
      t_current_shard = int(i);
      _contexts[i]->run();
      t_current_shard = -1;
    });
  }
}

void shard_set::run() {
  t_current_shard = 0;
  _contexts[0]->run();
  t_current_shard = -1;
}

void shard_set::stop() {
  for (auto& w : _work) w.reset();
  for (auto& c : _contexts) c->stop();
}

void shard_set::join() {
  for (auto& t : _threads)
    if (t.joinable()) t.join();
  _threads.clear();
}

}  // namespace tern::net
