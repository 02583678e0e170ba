#pragma once
// Hands out producer ids for InitProducerId, unique across restarts of the broker.
//
// Ids are reserved in blocks: before the first id of a block is handed out, the block's end is
// written durably to a small file in the data directory (a checkpoint file, the 16-byte format
// of docs/formats/log-segments.md; see docs/formats/producer-state.md). Every id handed out is
// below the persisted value, so after a restart (crash or not) counting resumes from it. A
// restart skips what was left of the block: at most block_size ids per restart.
//
//   auto a = producer_id_allocator::open(fs, data_dir / "producer_ids");
//   auto id = a->allocate();  // blocks on two syncs once every block_size ids
//
// Lifetime and threads: one per broker, opened at startup and used from one shard only (not
// thread safe). `fs` must outlive it. allocate() does blocking I/O when it reserves a block.

#include <cstdint>
#include <filesystem>

#include "base/named_type.h"
#include "base/result.h"
#include "storage/file.h"

namespace tern::broker {

class producer_id_allocator {
 public:
  static constexpr int64_t kDefaultBlockSize = 1000;

  // Reads the persisted block end from `file`. A missing file is a fresh data directory (ids
  // start at 0); a file that exists but does not hold a valid value is storage::errc::io_error
  // (logged): starting again from 0 would hand out ids that producers may still be using.
  static result<producer_id_allocator> open(storage::file_system& fs, std::filesystem::path file,
                                            int64_t block_size = kDefaultBlockSize);

  // The next id. When the current block is used up, first persists the next block's end;
  // if that fails (storage::errc::io_error / disk_full) no id is handed out and the next
  // call tries again. std::errc::value_too_large once the int64 id space is exhausted.
  result<producer_id> allocate();

  // The id the next allocate() returns, and the persisted bound of the ids handed out.
  int64_t next() const { return _next; }
  int64_t block_end() const { return _block_end; }

 private:
  producer_id_allocator(storage::file_system& fs, std::filesystem::path file, int64_t block_size,
                        int64_t start)
      : _fs(&fs),
        _file(std::move(file)),
        _block_size(block_size),
        _next(start),
        _block_end(start) {}

  storage::file_system* _fs;
  std::filesystem::path _file;
  int64_t _block_size;
  int64_t _next;       // handed out: [first id since open, _next)
  int64_t _block_end;  // persisted: every id below it may have been handed out
};

}  // namespace tern::broker
