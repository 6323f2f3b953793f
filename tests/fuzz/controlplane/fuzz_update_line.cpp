// libFuzzer target: load::parse_update_line() on arbitrary bytes, and the parsed update applied
// to a small table (table::apply_update). Neither may crash or throw; a refusal says why; an
// applied update leaves a table whose every record still reads back.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controlplane/load/update_line.hpp"
#include "dataplane/table/handle_key.hpp"

using namespace idpath;

namespace {

table::Table& fresh_table(table::Retired& retired)
{
    static std::shared_ptr<table::Table> t;
    table::TableBuilder b;
    b.home("88.1");
    wire::HandleValue v;
    v.index = 1;
    v.type = "URL";
    v.data = {'a'};
    b.add("88.1/a", {v});
    t = std::move(b).build();
    (void)retired;
    return *t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    auto u = load::parse_update_line(line, 1700000000);
    if (!u) {
        if (u.error().empty())
            std::abort(); // every refusal says why
        return 0;
    }
    table::Retired retired;
    table::Table& t = fresh_table(retired);
    const auto outcome = table::apply_update(t, *u, retired);
    const auto rec = t.find(table::normalize(u->handle));
    if (outcome == table::UpdateOutcome::Applied && u->op == table::UpdateOp::Delete && rec)
        std::abort();
    if (outcome == table::UpdateOutcome::Applied && u->op == table::UpdateOp::Replace &&
        (!rec || rec->values.size() != u->values.size()))
        std::abort();
    return 0;
}
