// Writes the seed corpus of amqp_frame_fuzz: a client's and a server's side of a session
// (protocol header, handshake, declarations, a published and a delivered message, acks,
// closes), every method's sample (amqp/codec/sample.h) framed, one file per class, and bare
// payloads for the direct decoders (a method, a content header, a field table with every type).
// Regenerate after changing the descriptions:
//   cmake --build build-fuzz --target amqp_frame_seeds
//   build-fuzz/fuzz/amqp_frame_seeds fuzz/corpus/amqp_frame

#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "amqp/codec/message.h"
#include "amqp/codec/protocol_header.h"
#include "amqp/codec/sample.h"

using namespace tern;
using namespace tern::amqp;

namespace {

constexpr uint32_t kFrameMax = 4096;

bytes::buffer client_session() {
  bytes::buffer out(protocol_header.begin(), protocol_header.end());
  field_table props{{"product", "seed"}, {"capabilities", field_table{{"basic.nack", true}}}};
  write_method_frame(out, 0,
                     connection_start_ok{.client_properties = props,
                                         .response = std::string("\0guest\0guest", 12)});
  write_method_frame(
      out, 0, connection_tune_ok{.channel_max = 2047, .frame_max = kFrameMax, .heartbeat = 60});
  write_method_frame(out, 0, connection_open{.virtual_host = "/"});
  write_method_frame(out, 1, channel_open{});
  write_method_frame(out, 1, confirm_select{});
  write_method_frame(out, 1, exchange_declare{.exchange = "ex", .type = "topic", .durable = true});
  write_method_frame(out, 1,
                     queue_declare{.queue = "q",
                                   .durable = true,
                                   .arguments = {{"x-message-ttl", 60000},
                                                 {"x-dead-letter-exchange", "dlx"},
                                                 {"x-max-priority", uint8_t(10)}}});
  write_method_frame(out, 1, queue_bind{.queue = "q", .exchange = "ex", .routing_key = "a.#"});
  write_method_frame(out, 1, basic_qos{.prefetch_count = 10});
  basic_properties p;
  p.content_type = "text/plain";
  p.delivery_mode = 2;
  p.headers = field_table{{"h", int64_t(1)}};
  bytes::buffer body(5000, 'b');
  write_message(out, 1, basic_publish{.exchange = "ex", .routing_key = "a.b", .mandatory = true}, p,
                body, kFrameMax);
  write_method_frame(out, 1, basic_consume{.queue = "q", .consumer_tag = "c1"});
  write_method_frame(out, 1, basic_ack{.delivery_tag = 1, .multiple = true});
  write_method_frame(out, 1, basic_nack{.delivery_tag = 2});
  write_method_frame(out, 1, basic_reject{.delivery_tag = 3, .requeue = false});
  write_heartbeat(out);
  write_method_frame(out, 1, channel_close{.reply_code = 200, .reply_text = "bye"});
  write_method_frame(out, 0, connection_close{.reply_code = 200, .reply_text = "bye"});
  return out;
}

bytes::buffer server_session() {
  bytes::buffer out;
  field_table caps{{"publisher_confirms", true},
                   {"basic.nack", true},
                   {"consumer_cancel_notify", true},
                   {"connection.blocked", true}};
  write_method_frame(
      out, 0,
      connection_start{.server_properties = {{"product", "Tern"}, {"capabilities", caps}},
                       .mechanisms = "PLAIN AMQPLAIN"});
  write_method_frame(out, 0,
                     connection_tune{.channel_max = 2047, .frame_max = 131072, .heartbeat = 60});
  write_method_frame(out, 0, connection_open_ok{});
  write_method_frame(out, 1, channel_open_ok{});
  write_method_frame(out, 1,
                     queue_declare_ok{.queue = "q", .message_count = 3, .consumer_count = 1});
  write_method_frame(out, 1, basic_consume_ok{.consumer_tag = "c1"});
  basic_properties p = sample_properties(9);
  bytes::buffer raw;
  encode_basic_properties(p, raw);
  write_message(out, 1,
                basic_deliver{.consumer_tag = "c1", .delivery_tag = 1, .routing_key = "a.b"}, raw,
                bytes::as_bytes("hello"), kFrameMax);
  write_message(out, 1, basic_get_ok{.delivery_tag = 2, .routing_key = "k", .message_count = 0}, p,
                {}, kFrameMax);
  write_method_frame(out, 1, basic_get_empty{});
  write_message(out, 1, basic_return{.reply_code = 312, .reply_text = "NO_ROUTE", .exchange = "ex"},
                basic_properties{}, bytes::as_bytes("x"), kFrameMax);
  write_method_frame(out, 1, basic_ack{.delivery_tag = 1});
  write_method_frame(out, 1, basic_cancel{.consumer_tag = "c1"});
  write_method_frame(out, 0, connection_blocked{.reason = "low on memory"});
  write_method_frame(out, 0, connection_close_ok{});
  return out;
}

// Every method's sample, framed, grouped by class name.
std::map<std::string, bytes::buffer> samples_by_class() {
  std::map<std::string, bytes::buffer> out;
  auto one = [&]<class M>(std::type_identity<M>) {
    std::string_view name = M::traits.name;
    std::string cls(name.substr(0, name.find('.')));
    write_method_frame(out[cls], 1, make_sample<M>(1));
  };
  [&]<size_t... I>(std::index_sequence<I...>) {
    (one(std::type_identity<std::variant_alternative_t<I, method>>{}), ...);
  }
  (std::make_index_sequence<method_count>());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  std::map<std::string, bytes::buffer> files;
  files["session_client"] = client_session();
  files["session_server"] = server_session();
  for (auto& [cls, frames] : samples_by_class()) files["methods_" + cls] = std::move(frames);
  encode_method(method(queue_declare{.queue = "q", .arguments = sample_table(1, 1)}),
                files["payload_method"]);
  encode_content_header(42, sample_properties(1), files["payload_content_header"]);
  encode_field_table(sample_table(2, 3), files["payload_table"]);

  bool failed = false;
  for (auto& [name, data] : files) {
    std::string path = dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size()) failed = true;
    if (f) std::fclose(f);
  }
  std::printf("wrote %zu seeds to %s\n", files.size(), dir.c_str());
  return failed ? 1 : 0;
}
