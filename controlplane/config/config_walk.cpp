#include "controlplane/config/config_walk.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "controlplane/config/config_values.hpp"
#include "controlplane/config/schema.hpp"
#include "controlplane/load/json_fields.hpp"

namespace idpath::config {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// The names a mapping at `prefix` may hold: the next component of every key below it.
std::vector<std::string> names_under(std::string_view prefix)
{
    std::vector<std::string> names;
    for (const KeySpec& k : schema()) {
        std::string_view rest = k.path;
        if (!prefix.empty()) {
            if (!(rest.starts_with(prefix) && rest.size() > prefix.size() &&
                  rest[prefix.size()] == '.'))
                continue;
            rest.remove_prefix(prefix.size() + 1);
        }
        std::string name(rest.substr(0, rest.find('.')));
        if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(std::move(name));
    }
    return names;
}

std::string unknown_key_reason(std::string_view prefix, std::string_view key)
{
    const auto names = names_under(prefix);
    // Keys are short; 2 edits catch transpositions and most typos without wild guesses.
    const auto best =
        std::min_element(names.begin(), names.end(), [&](const auto& a, const auto& b) {
            return edit_distance(key, a) < edit_distance(key, b);
        });
    if (best != names.end() && edit_distance(key, *best) <= 2)
        return "unknown key; did you mean \"" + *best + "\"?";
    std::string known;
    for (const auto& n : names)
        known += (known.empty() ? "" : ", ") + n;
    return "unknown key (known here: " + known + ")";
}

class Walker {
public:
    explicit Walker(WalkContext& cx) : cx_(cx) {}

    void run(const YAML::Node& root)
    {
        root_mark_ = root.Mark();
        if (root.IsMap())
            walk_map(root, "");
        else if (!root.IsNull())
            cx_.error(root.Mark(), "",
                      "the file must be a mapping of sections (node, service, site, data, admin)");
        check_required();
        check_listeners();
        check_mirror();
        check_snapshot_schedule();
        check_replication();
        check_recursion();
    }

private:
    void walk_map(const YAML::Node& map, const std::string& prefix)
    {
        std::unordered_map<std::string, int> lines; // key -> line, to place duplicates
        for (const auto& kv : map) {
            if (!kv.first.IsScalar()) {
                cx_.error(kv.first.Mark(), prefix, "keys must be plain names");
                continue;
            }
            const std::string& key = kv.first.Scalar();
            const std::string path = load::join_path(prefix, key);
            const YAML::Mark mark = kv.first.Mark();
            // yaml-cpp keeps both entries of a repeated key; reading either would hide a mistake.
            if (auto [it, fresh] = lines.emplace(key, mark.line + 1); !fresh) {
                cx_.error(mark, path,
                          "duplicate key (first at line " + std::to_string(it->second) + ")");
                continue;
            }
            // "service.udp_threads: 2" at the top would otherwise land on the same path.
            if (key.find_first_of(".[") != std::string::npos) {
                cx_.error(mark, path,
                          "unknown key (write sections as nested mappings, not dotted names)");
                continue;
            }
            if (const KeySpec* spec = find_key(path)) {
                seen_.insert(spec->path);
                read_value(*spec, kv.second, path, mark, cx_);
            } else if (is_section(path)) {
                section_marks_.emplace(path, mark);
                if (kv.second.IsMap())
                    walk_map(kv.second, path);
                else if (!kv.second.IsNull()) // an empty section ("service:") keeps every default
                    cx_.error(kv.second.Mark(), path, "must be a mapping of keys");
            } else {
                cx_.error(mark, path, unknown_key_reason(prefix, key));
            }
        }
    }

    YAML::Mark parent_mark(std::string_view path) const
    {
        const auto dot = path.rfind('.');
        if (dot != std::string_view::npos)
            if (auto it = section_marks_.find(std::string(path.substr(0, dot)));
                it != section_marks_.end())
                return it->second;
        return root_mark_;
    }

    void check_required()
    {
        for (const KeySpec& k : schema())
            if (k.required && !seen_.contains(k.path))
                cx_.error(parent_mark(k.path), std::string(k.path), "missing required key");
    }

    void check_listeners()
    {
        const auto& s = cx_.config.service;
        if (s.udp.empty() && s.tcp.empty())
            cx_.error(parent_mark("service.udp"), "service",
                      "service.udp and service.tcp are both empty: the node would serve nothing");
    }

    void check_snapshot_schedule()
    {
        const auto& d = cx_.config.data;
        if (d.snapshot_interval_seconds != 0 && d.snapshot.empty())
            cx_.error(parent_mark("data.snapshot_interval_seconds"), "data.snapshot_interval_seconds",
                      "scheduled snapshots need data.snapshot: name the file to save to");
        // Retention deletes only what a snapshot holds: without both it would never delete.
        if (d.journal_retain_days != 0 && (d.journal.empty() || d.snapshot.empty()))
            cx_.error(parent_mark("data.journal_retain_days"), "data.journal_retain_days",
                      "journal retention needs data.journal and data.snapshot: a segment is deleted only "
                      "once the snapshot holds its changes");
    }

    // The mirror role and serving as an upstream need their keys together.
    void check_replication()
    {
        const auto& r = cx_.config.replication;
        const bool mirror = cx_.config.node.role == "mirror";
        const YAML::Mark at = parent_mark("replication.upstream");
        if (mirror && r.upstream.empty())
            cx_.error(parent_mark("node.role"), "replication.upstream",
                      "node.role is mirror: name the upstream to replicate from");
        if (!mirror && !r.upstream.empty())
            cx_.error(at, "node.role", "replication.upstream is set but node.role is not mirror");
        if (mirror && !r.upstream.empty()) {
            if (r.upstream_key.empty())
                cx_.error(at, "replication.upstream_key",
                          "a mirror needs the upstream's public key: the stream's TLS certificate is checked against it");
            if (r.admin.empty() || r.admin_key.empty())
                cx_.error(at, r.admin.empty() ? "replication.admin" : "replication.admin_key",
                          "a mirror authenticates as a replication admin: name replication.admin and replication.admin_key");
            if (r.state.empty())
                cx_.error(at, "replication.state", "a mirror needs replication.state to resume after a restart");
        }
        if (r.server_num >= r.num_servers)
            cx_.error(parent_mark("replication.server_num"), "replication.server_num",
                      "must be below replication.num_servers");
        // A passphrase belongs to a private key file (HS_SECKEY's secret is not encrypted).
        if (!r.admin_key_passphrase_file.empty() && (r.admin_key.empty() || r.auth != "HS_PUBKEY"))
            cx_.error(parent_mark("replication.admin_key_passphrase_file"), "replication.admin_key_passphrase_file",
                      "is the passphrase of an HS_PUBKEY admin key: set replication.admin_key (and auth HS_PUBKEY)");
        if (!r.serve.key_passphrase_file.empty() && r.serve.key.empty())
            cx_.error(parent_mark("replication.serve.key_passphrase_file"), "replication.serve.key_passphrase_file",
                      "is the passphrase of replication.serve.key, which is not set");
        if (!r.serve.listen.empty()) {
            const YAML::Mark sat = parent_mark("replication.serve.listen");
            if (r.serve.key.empty())
                cx_.error(sat, "replication.serve.key", "serving replication needs this server's private key");
            if (r.serve.admins.empty())
                cx_.error(sat, "replication.serve.admins", "serving replication needs at least one replication admin");
            if (cx_.config.data.journal.empty())
                cx_.error(sat, "data.journal",
                          "serving replication needs data.journal: the transaction log mirrors pull is the journal");
        }
    }

    // The recursive role and its keys go together. Misses are resolved for UDP clients: in
    // sockets mode the kernel's UDP sockets carry them, in DPDK mode the workers do.
    void check_recursion()
    {
        const bool recursive = cx_.config.node.role == "recursive";
        if (recursive && cx_.config.recursion.roots.empty())
            cx_.error(parent_mark("node.role"), "recursion.roots",
                      "node.role is recursive: name the root servers to start from");
        if (recursive && cx_.config.service.udp.empty() && cx_.config.dataplane.mode != "dpdk")
            cx_.error(parent_mark("service.udp"), "service.udp",
                      "node.role is recursive: HANDLE.NET clients ask over UDP first, so service.udp must not be empty");
        if (!recursive)
            for (const KeySpec& k : schema())
                if (k.path.starts_with("recursion.") && seen_.contains(k.path)) {
                    cx_.error(parent_mark(k.path), std::string(k.path),
                              "recursion keys are set but node.role is not recursive");
                    break;
                }
    }

    // What one key cannot say alone: TLS settings that only make sense together.
    void check_mirror()
    {
        const auto& s = cx_.config.mirror.syslog;
        const YAML::Mark at = parent_mark("mirror.syslog.tls");
        if (s.tls && s.ca_file.empty())
            cx_.error(at, "mirror.syslog.ca_file",
                      "mirror.syslog.tls is true: name the CA file the collector's certificate "
                      "must chain to");
        if (s.cert_file.empty() && !s.key_file.empty())
            cx_.error(at, "mirror.syslog.key_file",
                      "a key_file without mirror.syslog.cert_file: name the certificate too");
        if (!s.tls && (!s.ca_file.empty() || !s.cert_file.empty() || !s.key_file.empty() ||
                       !s.server_name.empty()))
            cx_.error(at, "mirror.syslog.tls",
                      "TLS settings are given but mirror.syslog.tls is false");
    }

    WalkContext& cx_;
    YAML::Mark root_mark_;
    std::unordered_set<std::string_view> seen_;
    std::unordered_map<std::string, YAML::Mark> section_marks_;
};

} // namespace

void build_config(const YAML::Node& root, const std::filesystem::path& file, WalkContext& cx)
{
    cx.file = file.string();
    cx.base_dir = file.parent_path();
    cx.config.source = file;
    Walker(cx).run(root);
}

} // namespace idpath::config
