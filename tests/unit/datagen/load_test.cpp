// What idpath-datagen writes loads with controlplane/load: every line parses into the values
// the in-process path (to_handle_values) gives the table, and a whole file loads with no error.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "controlplane/load/jsonl_loader.hpp"
#include "perf/datagen/generator.hpp"
#include "perf/datagen/handle_values.hpp"
#include "perf/datagen/json_line.hpp"
#include "perf/datagen/writer.hpp"

namespace idpath::datagen {
namespace {

constexpr std::uint32_t kDefaultTimestamp = 1;

class TempFiles {
public:
    TempFiles()
    {
        char tmpl[] = "/tmp/datagen-test-XXXXXX";
        dir_ = mkdtemp(tmpl);
    }
    ~TempFiles() { std::filesystem::remove_all(dir_); }
    std::filesystem::path path(std::string_view name) const { return dir_ / name; }

private:
    std::filesystem::path dir_;
};

std::string read_all(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(DatagenLoad, EveryLineParsesToTheInProcessValues)
{
    GeneratorConfig c;
    c.prefixes = {"88.100.1", "88.200.7"};
    const Generator g(c);
    Identifier id;
    std::string line;
    for (std::uint64_t i = 0; i < 20'000; ++i) {
        g.make(i, id);
        line.clear();
        append_json_line(id, line);
        ASSERT_EQ(line.back(), '\n');
        line.pop_back();
        const auto r = load::parse_identifier_line(line, kDefaultTimestamp);
        ASSERT_TRUE(r.ok()) << line << "\n" << r.error();
        EXPECT_EQ(r->handle, id.handle);
        ASSERT_EQ(r->values, to_handle_values(id)) << line;
    }
}

TEST(DatagenLoad, AFileOf20kLoadsWithoutErrors)
{
    TempFiles tmp;
    Options o;
    o.count = 20'000;
    o.generator.prefixes = {"88.100.1", "88.200.7"};
    o.out = tmp.path("ids.jsonl");
    o.handles_out = tmp.path("handles.txt");
    const auto s = write_dataset(o);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->identifiers, 20'000u);
    EXPECT_EQ(s->bytes, std::filesystem::file_size(o.out));

    table::TableBuilder builder;
    const auto r = load::load_identifiers({o.out}, o.generator.prefixes, builder, kDefaultTimestamp);
    if (!r) {
        for (const auto& e : r.error())
            ADD_FAILURE() << e.to_string();
        return;
    }
    EXPECT_EQ(r->identifiers, 20'000u); // a duplicate would have been an error
    EXPECT_EQ(r->values, s->values);
    EXPECT_EQ(r->lines, 20'000u);
    const auto table = std::move(builder).build();
    EXPECT_EQ(table->size(), 20'000u);

    // The handle list: exactly the handles, one per line, in the same order.
    const std::string handles = read_all(o.handles_out);
    EXPECT_EQ(s->handle_bytes, handles.size());
    std::istringstream in(handles);
    const Generator g(o.generator);
    std::string h;
    std::uint64_t n = 0;
    while (std::getline(in, h)) {
        ASSERT_EQ(h, g.handle(n)) << n;
        ++n;
    }
    EXPECT_EQ(n, 20'000u);
}

TEST(DatagenLoad, CountIsExact)
{
    TempFiles tmp;
    for (const std::uint64_t count : {1u, 7u, 12'345u}) {
        Options o;
        o.count = count;
        o.out = tmp.path("n.jsonl");
        ASSERT_TRUE(write_dataset(o).ok());
        const std::string text = read_all(o.out);
        EXPECT_EQ(static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')), count);
    }
}

std::string dataset_text(unsigned threads, bool handles_only)
{
    const Generator g({});
    std::FILE* out = std::tmpfile();
    std::FILE* names = std::tmpfile();
    EXPECT_TRUE(write_dataset(g, 30'000, out, names, threads).ok());
    std::FILE* f = handles_only ? names : out;
    std::string text(static_cast<std::size_t>(std::ftell(f)), '\0');
    std::rewind(f);
    EXPECT_EQ(std::fread(text.data(), 1, text.size(), f), text.size());
    std::fclose(out);
    std::fclose(names);
    return text;
}

TEST(DatagenLoad, OutputDoesNotDependOnThreads)
{
    const std::string one = dataset_text(1, false);
    EXPECT_EQ(one, dataset_text(3, false));
    EXPECT_EQ(one, dataset_text(8, false));
    EXPECT_EQ(dataset_text(1, true), dataset_text(5, true));
}

TEST(DatagenLoad, UnwritableFileIsAnError)
{
    Options o;
    o.count = 1;
    o.out = "/nonexistent-dir/ids.jsonl";
    const auto r = write_dataset(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("/nonexistent-dir/ids.jsonl"), std::string::npos) << r.error();
}

} // namespace
} // namespace idpath::datagen
