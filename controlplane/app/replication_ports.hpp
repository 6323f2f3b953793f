#pragma once
/// The node as replication sees it (controlplane/replication/table_port.hpp), over the daemon's
/// table, journal and grace periods: the upstream side reads them, the mirror side applies
/// through the same path as `idpathctl update` (journaled per chunk, a grace period per chunk).
/// Every call takes the daemon's mutex for as long as it touches the table and no longer:
/// network I/O happens outside it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/replication/table_port.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::app {

class Daemon;

class ReplicationPorts final : public replication::SourcePort, public replication::SinkPort {
public:
    explicit ReplicationPorts(Daemon& daemon) : d_(daemon) {}

    // SourcePort
    std::uint64_t last_txn() override;
    std::size_t pieces() override;
    void visit(std::size_t i,
               const std::function<void(std::string_view, std::uint32_t, ByteSpan)>& f) override;
    std::vector<std::string> homed_prefixes() override;
    Result<bool, std::string> read_txns(std::uint64_t after,
                                        const std::function<bool(const journal::Entry&)>& f) override;
    replication::SyncDigest digest(const replication::ShardFilter& shard) override;
    std::vector<std::uint8_t> value_data(std::string_view handle, std::uint32_t index) override;

    // SinkPort
    Result<replication::ApplyResult, std::string> apply(std::vector<journal::Entry>& txns) override;
    void dump_begin() override;
    bool dump_add(std::string_view handle, std::uint32_t count, ByteSpan encoded) override;
    void dump_home(std::string_view prefix) override;
    Result<replication::ApplyResult, std::string> dump_commit() override;
    void dump_abort() override;

    /// Totals for status: {"txns_applied":..,"txns_refused":..,"dumps_committed":..,...}.
    std::string stats_json() const;

private:
    Daemon& d_;
    std::unique_ptr<table::TableBuilder> staging_; // a dump being received
    std::uint64_t staged_refused_ = 0;
    // Written under the daemon's mutex.
    std::uint64_t txns_applied_ = 0;
    std::uint64_t txns_refused_ = 0;
    std::uint64_t dumps_committed_ = 0;
    std::uint64_t dump_records_refused_ = 0;
    std::string last_refusal_;
};

} // namespace idpath::app
