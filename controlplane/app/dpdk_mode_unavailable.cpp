// idpathd built without DPDK (meson -Ddpdk=disabled, or libdpdk-dev missing): the sockets
// data plane only; a config asking for dpdk mode is refused at start, saying why.
#include "controlplane/app/dpdk_mode.hpp"

namespace idpath::app {

struct DpdkMode::State {};

DpdkMode::DpdkMode(std::unique_ptr<State> state) : state_(std::move(state)) {}
DpdkMode::~DpdkMode() = default;

bool dpdk_available()
{
    return false;
}

Result<std::unique_ptr<DpdkMode>, std::string> DpdkMode::open(const config::Config&)
{
    return Err{std::string("dataplane.mode is dpdk, but this idpathd was built without DPDK "
                           "(libdpdk-dev and libbpf-dev at build time)")};
}

Result<bool, std::string> DpdkMode::launch(resolve::PolicyRef, const table::Table*)
{
    return Err{std::string("dataplane: not built with DPDK")};
}

std::size_t DpdkMode::worker_count() const
{
    return 0;
}

void DpdkMode::set_query_logs(std::vector<querylog::Target>) {}

const querylog::QueryLogStats* DpdkMode::query_log_stats(std::size_t) const
{
    return nullptr;
}

void DpdkMode::set_probes(std::vector<querylog::ProbeTarget>) {}

const querylog::ProbeStats* DpdkMode::probe_stats(std::size_t) const
{
    return nullptr;
}

void DpdkMode::enable_punt(std::size_t) {}

std::vector<worker::PuntQueues*> DpdkMode::punt_queues() const
{
    return {};
}

void DpdkMode::stop() {}

void DpdkMode::close() {}

void DpdkMode::publish(const table::Table*) {}

nlohmann::json DpdkMode::status() const
{
    return {{"mode", "dpdk"}};
}

nlohmann::json DpdkMode::stats(nlohmann::json&) const
{
    return nlohmann::json::object();
}

} // namespace idpath::app
