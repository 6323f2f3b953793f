#include "controlplane/app/stats_json.hpp"

#include <algorithm>

#include "dataplane/packet/packet.hpp"
#include "dataplane/table/buffer.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::app {

using nlohmann::json;

json resolve_stats_json(const resolve::ResolveStats& s)
{
    json j;
    j["requests"] = s.requests.get();
    j["answers"] = s.answers.get();
    j["datagrams_out"] = s.datagrams_out.get();
    j["bytes_in"] = s.bytes_in.get();
    j["bytes_out"] = s.bytes_out.get();
    j["values_out"] = s.values_out.get();
    j["malformed"] = s.malformed.get();
    j["oversize_answers"] = s.oversize_for_udp.get();
    j["send_errors"] = s.send_errors.get();
    j["punted"] = s.punted.get();
    j["punt_dropped"] = s.punt_dropped.get();
    json rc = json::object();
    for (std::size_t i = 0; i + 1 < resolve::kCountedResponseCodes.size(); ++i) {
        const std::uint32_t code = resolve::kCountedResponseCodes[i];
        const char* name = wire::response_code_name(code);
        if (s.by_rc[i].get() && name)
            rc[name] = s.by_rc[i].get();
    }
    if (const auto other = s.by_rc.back().get())
        rc["other"] = other;
    j["responses"] = rc;
    json silenced = json::object();
    static const char* kSilence[] = {"none", "bad_envelope", "bad_message", "not_a_request"};
    for (std::size_t i = 1; i < s.silenced.size(); ++i)
        if (s.silenced[i].get())
            silenced[kSilence[i]] = s.silenced[i].get();
    j["silenced"] = silenced;
    json we = json::object();
    for (std::size_t i = 0; i < s.wire_errors.size(); ++i)
        if (s.wire_errors[i].get())
            we[wire::to_string(static_cast<wire::WireError>(i))] = s.wire_errors[i].get();
    j["wire_errors"] = we;
    return j;
}

json table_json(const table::Table* t)
{
    json j;
    const std::size_t n = t ? t->size() : 0;
    const std::size_t memory = t ? t->memory_bytes() : 0;
    const std::size_t values = t ? t->value_bytes() : 0;
    j["handles"] = n;
    j["value_bytes"] = values;
    j["memory_bytes"] = memory;
    j["shards"] = t ? t->shard_count() : 0;
    j["bytes_per_identifier"] = n ? memory / n : 0;
    j["overhead_bytes_per_identifier"] = n ? (memory - std::min(memory, values)) / n : 0;
    // Process-wide, which is the serving table's blocks whenever no reload is building another.
    const table::BlockUsage u = table::block_usage();
    const std::string source = u.source_name ? u.source_name : "source";
    j["memory"] = u.source_bytes == 0 ? "anonymous" : u.default_bytes == 0 ? source : "mixed";
    json kinds = {{"anonymous", u.default_bytes}};
    if (u.source_name)
        kinds[source] = u.source_bytes;
    j["memory_kinds"] = kinds;
    j["memory_fallbacks"] = u.fallbacks;
    return j;
}

/// Sums every numeric leaf of `from` into `into` (same shape).
void add_into(json& into, const json& from)
{
    if (!into.is_object())
        into = json::object();
    for (auto it = from.begin(); it != from.end(); ++it) {
        if (it->is_object())
            add_into(into[it.key()], *it);
        else if (it->is_number_unsigned())
            into[it.key()] = into.value(it.key(), std::uint64_t{0}) + it->get<std::uint64_t>();
    }
}

json worker_stats_json(const worker::WorkerStats& s)
{
    json j;
    j["rx"] = s.rx.get();
    j["tx"] = s.tx.get();
    j["tx_dropped"] = s.tx_dropped.get();
    j["dropped"] = s.dropped.get();
    j["unanswered"] = s.unanswered.get();
    j["alloc_failed"] = s.alloc_failed.get();
    j["oversize"] = s.oversize.get();
    j["too_many_datagrams"] = s.too_many_datagrams.get();
    j["exception_out"] = s.exception_out.get();
    j["exception_out_dropped"] = s.exception_out_dropped.get();
    j["exception_in"] = s.exception_in.get();
    j["exception_in_dropped"] = s.exception_in_dropped.get();
    j["punt_tx"] = s.punt_tx.get();
    j["punt_tx_dropped"] = s.punt_tx_dropped.get();
    json verdicts = json::object();
    for (std::size_t i = 0; i < s.packets.verdicts.size(); ++i)
        if (const auto n = s.packets.verdicts[i].get())
            verdicts[packet::to_string(static_cast<packet::Verdict>(i))] = n;
    j["verdicts"] = verdicts;
    json malformed = json::object();
    for (std::size_t i = 1; i < s.packets.malformed.size(); ++i)
        if (const auto n = s.packets.malformed[i].get())
            malformed[packet::to_string(static_cast<packet::MalformedReason>(i))] = n;
    j["malformed"] = malformed;
    j["answers"] = resolve_stats_json(s.answers);
    return j;
}

} // namespace idpath::app
