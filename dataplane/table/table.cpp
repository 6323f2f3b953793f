#include "dataplane/table/table.hpp"

#include <algorithm>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::table {

const RecordView* Table::find(std::string_view key) const noexcept
{
    const auto it = records_.find(key);
    return it == records_.end() ? nullptr : &it->second.view;
}

bool Table::homes(std::string_view prefix) const noexcept
{
    return homed_.find(prefix) != homed_.end();
}

std::vector<std::string> Table::homed_prefixes() const
{
    std::vector<std::string> v(homed_.begin(), homed_.end());
    std::sort(v.begin(), v.end());
    return v;
}

bool TableBuilder::add(std::string_view handle, std::vector<wire::HandleValue> values)
{
    if (values.size() > wire::kMaxValues)
        return false;
    std::string key = normalize(handle);
    if (table_->records_.find(key) != table_->records_.end())
        return false;

    // Index order makes answers deterministic and lets the resolver binary-search index filters.
    std::sort(values.begin(), values.end(),
              [](const wire::HandleValue& a, const wire::HandleValue& b) { return a.index < b.index; });
    for (std::size_t i = 1; i < values.size(); ++i)
        if (values[i].index == values[i - 1].index)
            return false;

    std::size_t total = 0;
    for (const auto& v : values)
        total += wire::encoded_size(v);

    Table::Stored st;
    st.encoded.resize(total);
    st.entries.reserve(values.size());
    ByteWriter w(st.encoded);
    bool all_public = true;
    for (const auto& v : values) {
        ValueEntry e;
        e.index = v.index;
        e.offset = static_cast<std::uint32_t>(w.size());
        e.type_length = static_cast<std::uint32_t>(v.type.size());
        e.permissions = v.permissions;
        wire::encode_value(w, v);
        e.length = static_cast<std::uint32_t>(w.size()) - e.offset;
        all_public = all_public && (v.permissions & wire::perm::kPublicRead);
        st.entries.push_back(e);
    }
    if (!w.ok() || w.size() != total)
        return false;

    table_->value_bytes_ += total;
    auto [it, inserted] = table_->records_.emplace(std::move(key), std::move(st));
    // The view points into the map node, which never moves once inserted.
    Table::Stored& s = it->second;
    s.view = RecordView{s.entries, s.encoded, all_public};
    return inserted;
}

void TableBuilder::home(std::string_view prefix)
{
    table_->homed_.insert(normalize(prefix));
}

bool TableBuilder::contains(std::string_view handle) const
{
    return table_->records_.find(normalize(handle)) != table_->records_.end();
}

std::shared_ptr<const Table> TableBuilder::build() &&
{
    return std::move(table_);
}

} // namespace idpath::table
