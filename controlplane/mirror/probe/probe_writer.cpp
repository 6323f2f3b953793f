#include "controlplane/mirror/probe/probe_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "controlplane/io/file_error.hpp"
#include "controlplane/mirror/file/log_file_name.hpp"
#include "controlplane/mirror/file/rotated_files.hpp"
#include "controlplane/mirror/probe/pcapng.hpp"

namespace idpath::mirror {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::string_view kProbeSuffix = ".pcapng";
constexpr std::string_view kLogSuffix = ".ipl";
constexpr std::uint32_t kEthernetInterface = 0;
constexpr std::uint32_t kRawInterface = 1;
/// The buffer is written out past this, and after every drain.
constexpr std::size_t kFlushAt = 1 << 20;
constexpr auto kIdleSleep = std::chrono::milliseconds(5);

std::string errno_text(const char* what, const fs::path& path, int e)
{
    return io::file_error(what, path, e);
}

bool write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

// Probe files share the file sink's name layout (log_file_name.hpp), with their own suffix: the
// two never take each other's files, even in one directory.
std::string probe_file_name(std::string_view node, std::chrono::sys_seconds start, std::uint64_t seq)
{
    LogFileName n{std::string(node), start, seq, LogFormat::Binary, false};
    std::string s = n.str();
    s.resize(s.size() - kLogSuffix.size());
    return s + std::string(kProbeSuffix);
}

std::optional<ProbeFileName> parse_probe_file_name(std::string_view name)
{
    if (!name.ends_with(kProbeSuffix))
        return std::nullopt;
    name.remove_suffix(kProbeSuffix.size());
    const auto n = parse_log_file_name(std::string(name) + std::string(kLogSuffix));
    if (!n)
        return std::nullopt;
    return ProbeFileName{n->node, n->start, n->seq};
}

ProbeWriter::ProbeWriter(ProbeWriterOptions options)
    : options_(std::move(options)), node_(file_node_id(options_.node_id))
{
    if (!options_.clock)
        options_.clock = [] { return Clock::now(); };
    if (options_.sample == 0)
        options_.sample = 1;
    if (options_.snap_bytes == 0 || options_.snap_bytes > querylog::kProbeSnapMax)
        options_.snap_bytes = querylog::kProbeSnapMax;
}

Result<std::unique_ptr<ProbeWriter>, std::string> ProbeWriter::make(ProbeWriterOptions options)
{
    std::unique_ptr<ProbeWriter> w(new ProbeWriter(std::move(options)));
    const fs::path& dir = w->options_.directory;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return Err("create " + dir.string() + ": " + ec.message());
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = parse_probe_file_name(it->path().filename().string());
        if (name && name->node == w->node_ && name->seq >= w->next_seq_)
            w->next_seq_ = name->seq + 1;
    }
    if (ec)
        return Err("read " + dir.string() + ": " + ec.message());
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return Err(errno_text("write to", dir, errno));
    w->apply_retention(w->options_.clock());
    return w;
}

ProbeWriter::~ProbeWriter() { stop(); }

querylog::ProbeTarget ProbeWriter::add_source(std::string name)
{
    const auto source = static_cast<std::uint16_t>(sources_.size());
    Source& s = sources_.emplace_back(source, std::move(name), options_.ring_packets);
    return {&s.ring, source, options_.sample, options_.snap_bytes};
}

void ProbeWriter::set_source_stats(const querylog::ProbeTarget& target, const querylog::ProbeStats* stats)
{
    for (Source& s : sources_)
        if (&s.ring == target.ring)
            s.stats.store(stats, std::memory_order_release);
}

void ProbeWriter::start()
{
    if (started_)
        return;
    started_ = true;
    thread_ = std::thread([this] {
        while (!stopping_.load(std::memory_order_acquire))
            if (drain_once() == 0)
                std::this_thread::sleep_for(kIdleSleep);
    });
}

void ProbeWriter::stop()
{
    stopping_.store(true, std::memory_order_release);
    if (thread_.joinable())
        thread_.join();
    drain_once();
    close_file();
}

std::size_t ProbeWriter::drain_once()
{
    std::size_t n = 0;
    for (Source& src : sources_) {
        const auto r = src.ring.peek();
        for (const auto& s : r.first)
            write_packet(s);
        for (const auto& s : r.second)
            write_packet(s);
        src.ring.release(r.size());
        n += r.size();
    }
    flush_buffer();
    const auto now = options_.clock();
    // Age rotation also for a quiet file: it is closed on time, not at the next packet.
    if (file_.valid() && options_.rotate_seconds > 0 &&
        now - opened_at_ >= std::chrono::seconds(options_.rotate_seconds))
        close_file();
    if (now - retention_at_ >= std::chrono::minutes(1))
        apply_retention(now);
    return n;
}

void ProbeWriter::write_packet(const querylog::ProbeSlot& s)
{
    if (!file_.valid() && !open_file(options_.clock()))
        return; // counted as a write error; the packet is lost
    const bool raw = s.link == querylog::ProbeLink::RawIp;
    const std::size_t before = buffer_.size();
    pcapng::append_packet(buffer_, raw ? kRawInterface : kEthernetInterface, s.time_ns,
                          {s.data.data(), std::min<std::size_t>(s.length, s.data.size())},
                          s.orig_length, static_cast<pcapng::Direction>(s.direction));
    file_bytes_ += buffer_.size() - before;
    written_.add();
    if (buffer_.size() >= kFlushAt)
        flush_buffer();
    if (options_.rotate_bytes > 0 && file_bytes_ >= options_.rotate_bytes)
        close_file();
}

bool ProbeWriter::open_file(Clock::time_point now)
{
    const auto start = std::chrono::floor<std::chrono::seconds>(now);
    const CreatedFile created = create_numbered_file(
        options_.directory, next_seq_, [&](std::uint64_t seq) { return probe_file_name(node_, start, seq); },
        path_);
    next_seq_ = created.fd >= 0 ? created.seq + 1 : created.seq;
    if (created.fd >= 0) {
        file_.reset(created.fd);
        opened_at_ = now;
        files_.add();
        buffer_.clear();
        pcapng::append_section_header(buffer_, "idpath " IDPATH_VERSION);
        pcapng::append_interface(buffer_, pcapng::kLinkEthernet, options_.snap_bytes, "dataplane");
        pcapng::append_interface(buffer_, pcapng::kLinkRaw, options_.snap_bytes, "sockets");
        file_bytes_ = buffer_.size();
        return true;
    }
    write_errors_.add();
    return false;
}

bool ProbeWriter::flush_buffer()
{
    if (buffer_.empty() || !file_.valid())
        return true;
    const bool ok = write_all(file_.get(), buffer_);
    if (!ok) {
        // The file may end in a partial block; a new file starts clean.
        write_errors_.add();
        file_.reset();
    } else {
        bytes_.add(buffer_.size());
    }
    buffer_.clear();
    return ok;
}

void ProbeWriter::close_file()
{
    if (!file_.valid())
        return;
    flush_buffer();
    if (file_.valid())
        ::fsync(file_.get());
    file_.reset();
}

void ProbeWriter::apply_retention(Clock::time_point now)
{
    retention_at_ = now;
    // Only our own files; never the open one.
    remove_expired_files(options_.directory, options_.retention_days, now,
                         file_.valid() ? path_ : fs::path(), node_,
                         [](std::string_view file) { return parse_probe_file_name(file); });
}

nlohmann::json ProbeWriter::stats_json() const
{
    std::uint64_t captured = 0, sampled_out = 0, lost = 0;
    nlohmann::json sources = nlohmann::json::array();
    for (const Source& s : sources_) {
        const querylog::ProbeStats* st = s.stats.load(std::memory_order_acquire);
        const std::uint64_t c = st ? st->captured.get() : 0;
        const std::uint64_t o = st ? st->sampled_out.get() : 0;
        const std::uint64_t l = st ? st->lost.get() : 0;
        captured += c;
        sampled_out += o;
        lost += l;
        sources.push_back({{"name", s.name}, {"captured", c}, {"sampled_out", o}, {"lost", l}});
    }
    return {{"directory", options_.directory.string()},
            {"sample", options_.sample},
            {"snap_bytes", options_.snap_bytes},
            {"captured", captured},
            {"sampled_out", sampled_out},
            {"lost", lost},
            {"written", written_.get()},
            {"bytes", bytes_.get()},
            {"files", files_.get()},
            {"write_errors", write_errors_.get()},
            {"sources", sources}};
}

} // namespace idpath::mirror
