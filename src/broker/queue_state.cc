#include "broker/queue_state.h"

#include <algorithm>

namespace tern::broker {

const char* removal_reason_name(removal_reason r) {
  switch (r) {
    case removal_reason::rejected: return "rejected";
    case removal_reason::expired: return "expired";
    case removal_reason::maxlen: return "maxlen";
    case removal_reason::delivery_limit: return "delivery_limit";
  }
  return "unknown";
}

namespace {
bool expired_at(const message_meta& m, int64_t now_ms) {
  return m.expires_at_ms >= 0 && m.expires_at_ms <= now_ms;
}
}  // namespace

bool queue_state::over_limits(uint64_t extra_bytes, size_t extra_count) const {
  if (_limits.max_length >= 0 && int64_t(_ready_count + extra_count) > _limits.max_length)
    return true;
  if (_limits.max_length_bytes >= 0 &&
      int64_t(_ready_bytes + extra_bytes) > _limits.max_length_bytes)
    return true;
  return false;
}

void queue_state::push_ready(message_meta m) {
  auto& level = level_of(m.priority);
  // New messages arrive in offset order; a requeued one goes back to its place.
  if (level.empty() || level.back().offset < m.offset) {
    level.push_back(m);
  } else if (level.front().offset > m.offset) {
    level.push_front(m);
  } else {
    auto at = std::lower_bound(level.begin(), level.end(), m.offset,
                               [](const message_meta& a, int64_t o) { return a.offset < o; });
    level.insert(at, m);
  }
  ++_ready_count;
  _ready_bytes += m.body_size;
}

queue_state::enqueue_outcome queue_state::enqueue(message_meta m) {
  enqueue_outcome out;
  if (_limits.overflow != overflow_policy::drop_head && over_limits(m.body_size, 1)) {
    out.status = enqueue_status::rejected;
    removed(m.offset);
    return out;
  }
  push_ready(m);
  // drop-head: the oldest messages of the least important level make room.
  while (over_limits(0, 0) && _ready_count > 0) {
    auto level = std::find_if(_ready.begin(), _ready.end(), [](auto& l) { return !l.empty(); });
    message_meta victim = level->front();
    level->pop_front();
    --_ready_count;
    _ready_bytes -= victim.body_size;
    removed(victim.offset);
    out.dropped.push_back({victim, removal_reason::maxlen});
  }
  return out;
}

void queue_state::restore(message_meta m) { push_ready(m); }

void queue_state::add_consumer(consumer_id c, holder_id h) {
  if (!has_consumer(c)) _consumers.push_back({c, h});
}

bool queue_state::has_consumer(consumer_id c) const {
  return std::any_of(_consumers.begin(), _consumers.end(),
                     [c](const consumer& k) { return k.id == c; });
}

std::optional<consumer_id> queue_state::active_consumer() const {
  if (!_limits.single_active_consumer || _consumers.empty()) return std::nullopt;
  return _consumers.front().id;
}

void queue_state::remove_consumer(consumer_id c) {
  auto it = std::find_if(_consumers.begin(), _consumers.end(),
                         [c](const consumer& k) { return k.id == c; });
  if (it == _consumers.end()) return;
  size_t index = size_t(it - _consumers.begin());
  _consumers.erase(it);
  if (_next_consumer > index) --_next_consumer;
  if (_next_consumer >= _consumers.size()) _next_consumer = 0;
}

std::vector<removed_message> queue_state::release(holder_id h) {
  std::vector<removed_message> dead;
  for (int64_t offset : unacked_of(h)) {
    bool found = false;
    if (auto d = requeue(offset, h, &found)) dead.push_back(*d);
  }
  return dead;
}

std::optional<message_meta> queue_state::pop_ready(int64_t now_ms,
                                                   std::vector<removed_message>& expired) {
  for (auto level = _ready.rbegin(); level != _ready.rend(); ++level) {
    while (!level->empty()) {
      message_meta m = level->front();
      level->pop_front();
      --_ready_count;
      _ready_bytes -= m.body_size;
      if (expired_at(m, now_ms)) {
        removed(m.offset);
        expired.push_back({m, removal_reason::expired});
        continue;
      }
      return m;
    }
  }
  return std::nullopt;
}

std::optional<queue_state::delivery> queue_state::next_delivery(
    int64_t now_ms, const std::function<bool(consumer_id)>& can_take,
    const std::function<bool(consumer_id)>& no_ack, std::vector<removed_message>& expired) {
  if (_ready_count == 0 || _consumers.empty()) return std::nullopt;
  std::optional<consumer> chosen;
  if (_limits.single_active_consumer) {
    if (can_take(_consumers.front().id)) chosen = _consumers.front();
  } else {
    for (size_t i = 0; i < _consumers.size(); ++i) {
      size_t k = (_next_consumer + i) % _consumers.size();
      if (can_take(_consumers[k].id)) {
        chosen = _consumers[k];
        _next_consumer = (k + 1) % _consumers.size();
        break;
      }
    }
  }
  if (!chosen) return std::nullopt;
  auto m = pop_ready(now_ms, expired);
  if (!m) return std::nullopt;
  if (no_ack(chosen->id)) {
    removed(m->offset);
  } else {
    _unacked.emplace(m->offset, held{*m, chosen->holder});
  }
  return delivery{chosen->id, chosen->holder, *m};
}

std::optional<message_meta> queue_state::get(int64_t now_ms, holder_id holder, bool no_ack,
                                             std::vector<removed_message>& expired) {
  auto m = pop_ready(now_ms, expired);
  if (!m) return std::nullopt;
  if (no_ack) {
    removed(m->offset);
  } else {
    _unacked.emplace(m->offset, held{*m, holder});
  }
  return m;
}

const message_meta* queue_state::unacked(int64_t offset, holder_id holder) const {
  auto it = _unacked.find(offset);
  if (it == _unacked.end() || it->second.holder != holder) return nullptr;
  return &it->second.meta;
}

bool queue_state::ack(int64_t offset, holder_id holder) {
  auto it = _unacked.find(offset);
  if (it == _unacked.end() || it->second.holder != holder) return false;
  _unacked.erase(it);
  removed(offset);
  return true;
}

std::optional<removed_message> queue_state::reject(int64_t offset, holder_id holder) {
  auto it = _unacked.find(offset);
  if (it == _unacked.end() || it->second.holder != holder) return std::nullopt;
  message_meta m = it->second.meta;
  _unacked.erase(it);
  removed(offset);
  return removed_message{m, removal_reason::rejected};
}

std::optional<removed_message> queue_state::requeue(int64_t offset, holder_id holder,
                                                    bool* found) {
  auto it = _unacked.find(offset);
  *found = it != _unacked.end() && it->second.holder == holder;
  if (!*found) return std::nullopt;
  message_meta m = it->second.meta;
  _unacked.erase(it);
  ++m.delivery_count;
  m.redelivered = true;
  if (_limits.delivery_limit >= 0 && int64_t(m.delivery_count) > _limits.delivery_limit) {
    removed(offset);
    return removed_message{m, removal_reason::delivery_limit};
  }
  push_ready(m);
  return std::nullopt;
}

std::vector<int64_t> queue_state::unacked_of(holder_id holder) const {
  std::vector<int64_t> out;
  for (auto& [offset, h] : _unacked)
    if (h.holder == holder) out.push_back(offset);
  std::sort(out.begin(), out.end());
  return out;
}

size_t queue_state::purge() {
  size_t n = _ready_count;
  for (auto& level : _ready) {
    for (auto& m : level) removed(m.offset);
    level.clear();
  }
  _ready_count = 0;
  _ready_bytes = 0;
  return n;
}

std::vector<removed_message> queue_state::expire(int64_t now_ms) {
  std::vector<removed_message> out;
  for (auto& level : _ready) {
    while (!level.empty() && expired_at(level.front(), now_ms)) {
      message_meta m = level.front();
      level.pop_front();
      --_ready_count;
      _ready_bytes -= m.body_size;
      removed(m.offset);
      out.push_back({m, removal_reason::expired});
    }
  }
  return out;
}

int64_t queue_state::next_expiry() const {
  int64_t next = -1;
  for (auto& level : _ready) {
    if (level.empty() || level.front().expires_at_ms < 0) continue;
    if (next < 0 || level.front().expires_at_ms < next) next = level.front().expires_at_ms;
  }
  return next;
}

int64_t queue_state::lowest_live_offset() const {
  int64_t low = -1;
  for (auto& level : _ready)
    if (!level.empty() && (low < 0 || level.front().offset < low)) low = level.front().offset;
  for (auto& [offset, h] : _unacked)
    if (low < 0 || offset < low) low = offset;
  return low;
}

}  // namespace tern::broker
