#include "perf/gun/options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "result_text.hpp"

namespace idpath::gun {
namespace {

Result<Options, std::string> parse(std::initializer_list<std::string_view> args)
{
    const std::vector<std::string_view> v(args);
    return parse_options(v);
}

std::string error_of(std::initializer_list<std::string_view> args)
{
    return error_text(parse(args));
}

TEST(Options, Defaults)
{
    const auto r = parse({"--handle", "88.100.1/abc", "127.0.0.1"});
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_EQ(r->server, "127.0.0.1");
    EXPECT_EQ(r->handles, std::vector<std::string>{"88.100.1/abc"});
    EXPECT_EQ(r->window, 64u);
    EXPECT_EQ(r->sockets, 4u);
    EXPECT_EQ(r->threads, 1u);
    EXPECT_EQ(r->duration, 5.0);
    EXPECT_EQ(r->count, 0u);
    EXPECT_EQ(r->timeout_ms, 1000u);
    EXPECT_FALSE(r->open_loop());
    EXPECT_FALSE(r->tcp);
    EXPECT_FALSE(r->json);
}

TEST(Options, EveryOptionBothSpellings)
{
    const auto r = parse({"--handles", "a.txt", "--jsonl=b.jsonl", "--handle=x/y", "--miss-ratio", "0.1",
                          "--zipf=0.9", "--rate", "50000", "--sockets=8", "--threads", "2", "--count", "1000",
                          "--duration=2.5", "--timeout-ms", "250", "--tcp", "--json", "--rd", "--interval=0",
                          "--seed", "42", "--index", "1", "--index=100", "--type", "URL", "[2001:db8::1]:2641"});
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_EQ(r->handle_files, std::vector<std::string>{"a.txt"});
    EXPECT_EQ(r->jsonl_files, std::vector<std::string>{"b.jsonl"});
    EXPECT_EQ(r->miss_ratio, 0.1);
    EXPECT_EQ(r->zipf, 0.9);
    EXPECT_TRUE(r->open_loop());
    EXPECT_EQ(r->rate, 50000);
    EXPECT_EQ(r->sockets, 8u);
    EXPECT_EQ(r->threads, 2u);
    EXPECT_EQ(r->count, 1000u);
    EXPECT_EQ(r->duration, 2.5);
    EXPECT_EQ(r->timeout_ms, 250u);
    EXPECT_TRUE(r->tcp && r->json && r->rd);
    EXPECT_EQ(r->interval, 0);
    EXPECT_EQ(r->seed, 42u);
    EXPECT_EQ(r->indexes, (std::vector<std::uint32_t>{1, 100}));
    EXPECT_EQ(r->types, std::vector<std::string>{"URL"});
    EXPECT_EQ(r->server, "[2001:db8::1]:2641");
}

TEST(Options, CountAloneIsBoundedByTheCap)
{
    const auto r = parse({"--handle", "a/b", "--count", "10", "::1"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->duration, kMaxDurationSeconds);
}

TEST(Options, HelpAndVersionNeedNothingElse)
{
    EXPECT_TRUE(parse({"--help"})->help);
    EXPECT_TRUE(parse({"-h"})->help);
    EXPECT_TRUE(parse({"--version"})->version);
    EXPECT_NE(usage_text().find("loopback"), std::string_view::npos);
}

TEST(Options, Errors)
{
    EXPECT_EQ(error_of({"--handle", "a/b"}), "missing SERVER (try --help)");
    EXPECT_EQ(error_of({"127.0.0.1"}), "no identifiers: give --handles FILE, --jsonl FILE or --handle H");
    EXPECT_EQ(error_of({"--handle", "a/b", "1.2.3.4", "::1", "5.6.7.8"}),
              "two SERVERs at most (one per address family), got '5.6.7.8' too");
    EXPECT_EQ(error_of({"--handle", "a/b", "1.2.3.4", "5.6.7.8:2641"}),
              "two SERVERs of one family ('1.2.3.4' and '5.6.7.8:2641' are both IPv4): give one IPv4 and one IPv6 "
              "address");
    EXPECT_EQ(parse({"--handle", "a/b", "1.2.3.4", "[::1]:26441"})->server2, "[::1]:26441");
    EXPECT_EQ(parse({"--handle", "a/b", "--xdp", "veth0", "1.2.3.4", "::1"})->server2, "::1");
    EXPECT_EQ(error_of({"--bogus", "1"}), "--bogus: unknown option");
    EXPECT_EQ(error_of({"-x"}), "-x: unknown option");
    EXPECT_EQ(error_of({"--handle"}), "--handle: needs a value");
    EXPECT_EQ(error_of({"--window", "0"}), "--window: must be an integer 1..65536, got '0'");
    EXPECT_EQ(error_of({"--window", "12x"}), "--window: must be an integer 1..65536, got '12x'");
    EXPECT_EQ(error_of({"--tcp=1"}), "--tcp: takes no value");
    EXPECT_NE(error_of({"--miss-ratio", "1.5"}).find("--miss-ratio: must be a number"), std::string::npos);
    EXPECT_NE(error_of({"--duration", "0"}).find("--duration: must be a number above"), std::string::npos);
    EXPECT_NE(error_of({"--duration", "601"}).find("--duration"), std::string::npos);
    EXPECT_NE(error_of({"--rate", "-5"}).find("--rate"), std::string::npos);
    EXPECT_NE(error_of({"--rate", "nan"}).find("--rate"), std::string::npos);
    EXPECT_NE(error_of({"--interval", "0.01"}).find("--interval"), std::string::npos);
    EXPECT_EQ(error_of({"--handle", "a/b", "--sockets", "2", "--threads", "3", "::1"}),
              "--threads: at most --sockets (2), got 3");
    EXPECT_EQ(error_of({"--handle", "a/b", "--window", "8", "--rate", "100", "::1"}),
              "--window: closed loop only; --rate paces an open loop");
    EXPECT_NE(error_of({"--count", "0"}).find("--count"), std::string::npos);
}

} // namespace
} // namespace idpath::gun
