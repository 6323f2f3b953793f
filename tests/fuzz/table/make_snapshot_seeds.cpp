// Writes the seed snapshots of fuzz_snapshot into a directory (tests/fuzz/corpus/fuzz_snapshot):
// small valid files covering an empty table, one record, several homed prefixes, private values,
// and a table with tombstones and garbage after updates. Deterministic: same seeds every run.
//
//   build-fuzz/tests/fuzz/table/make_snapshot_seeds tests/fuzz/corpus/fuzz_snapshot

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "dataplane/table/snapshot.hpp"

namespace {

using namespace idpath;

wire::HandleValue value(std::uint32_t index, std::string type, std::string data, std::uint8_t perms)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    v.permissions = perms;
    return v;
}

std::vector<wire::HandleValue> values_of(std::size_t i)
{
    std::vector<wire::HandleValue> v{value(1, "URL", "https://e.org/" + std::to_string(i), wire::perm::kDefault)};
    if (i % 3 == 0)
        v.push_back(value(2, "EMAIL", "a@e.org", wire::perm::kAdminRead | wire::perm::kAdminWrite));
    return v;
}

std::shared_ptr<table::Table> build(std::size_t n, std::vector<std::string> homed)
{
    table::TableBuilder b;
    for (const auto& p : homed)
        b.home(p);
    for (std::size_t i = 0; i < n; ++i)
        b.add("88.100.1/s" + std::to_string(i), values_of(i));
    return std::move(b).build();
}

bool write(const std::string& dir, const char* name, const table::Table& t)
{
    const auto bytes = table::snapshot::encode_snapshot(t, {1750000000, std::string("seed ") + name});
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    auto updated = build(40, {"88.100.1"});
    table::Retired retired;
    for (std::size_t i = 0; i < 40; i += 3)
        updated->erase("88.100.1/S" + std::to_string(i), retired);
    for (std::size_t i = 1; i < 40; i += 4) {
        auto rec = table::encode_record("88.100.1/s" + std::to_string(i), values_of(i + 7));
        if (rec)
            updated->upsert(*rec, retired);
    }
    updated->home("20.500", retired);
    const bool ok = write(dir, "empty", *build(0, {})) && write(dir, "one", *build(1, {"88.100.1"})) &&
                    write(dir, "homed", *build(12, {"88.100.1", "86.5", "20.500.12"})) &&
                    write(dir, "updated", *updated);
    if (!ok) {
        std::fprintf(stderr, "%s: cannot write seeds to %s\n", argv[0], dir.c_str());
        return 1;
    }
    return 0;
}
