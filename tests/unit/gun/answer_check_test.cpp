#include "perf/gun/answer_check.hpp"

#include <gtest/gtest.h>

#include "answers.hpp"

namespace idpath::gun {
namespace {

using Verdict = AnswerCheck::Verdict;

ByteSpan message_of(const test::Bytes& b)
{
    return ByteSpan(b).subspan(wire::kEnvelopeSize);
}

TEST(AnswerCheck, SuccessEchoingTheHandleIsOk)
{
    const auto a = test::make_answer({.values = 3});
    const AnswerCheck c = check_answer(message_of(a), "88.100.1/abc");
    EXPECT_EQ(c.verdict, Verdict::Ok);
    EXPECT_EQ(c.response_code, 1u);
    EXPECT_EQ(c.values, 3u);
}

TEST(AnswerCheck, AnotherHandleIsWrong)
{
    const auto a = test::make_answer({});
    EXPECT_EQ(check_answer(message_of(a), "88.100.1/ABC").verdict, Verdict::Wrong);
}

TEST(AnswerCheck, AnotherOpcodeIsWrong)
{
    const auto a = test::make_answer({.opcode = 2});
    EXPECT_EQ(check_answer(message_of(a), "88.100.1/abc").verdict, Verdict::Wrong);
}

TEST(AnswerCheck, ARequestIsWrong)
{
    const auto a = test::make_answer({.response_code = 0});
    EXPECT_EQ(check_answer(message_of(a), "88.100.1/abc").verdict, Verdict::Wrong);
}

TEST(AnswerCheck, DigestPrefixIsSkipped)
{
    const auto ok = test::make_answer({.digest = true});
    EXPECT_EQ(check_answer(message_of(ok), "88.100.1/abc").verdict, Verdict::Ok);
    const auto err = test::make_answer({.response_code = 100, .digest = true});
    const AnswerCheck c = check_answer(message_of(err), "88.100.1/abc");
    EXPECT_EQ(c.verdict, Verdict::Ok);
    EXPECT_EQ(c.response_code, 100u);
}

TEST(AnswerCheck, ErrorBodiesAreNotReadFurther)
{
    const auto a = test::make_answer({.response_code = 100});
    EXPECT_EQ(check_answer(message_of(a), "anything").verdict, Verdict::Ok);
}

TEST(AnswerCheck, TruncatedOrBrokenIsMalformed)
{
    auto a = test::make_answer({.values = 2});
    const ByteSpan m = message_of(a);
    EXPECT_EQ(check_answer(m.first(m.size() - 1), "88.100.1/abc").verdict, Verdict::Malformed);
    EXPECT_EQ(check_answer(m.first(10), "88.100.1/abc").verdict, Verdict::Malformed);
    // A value count larger than the values present.
    const std::size_t count_at = wire::kEnvelopeSize + wire::kHeaderSize + 4 + 12;
    a[count_at + 3] = 9;
    EXPECT_EQ(check_answer(message_of(a), "88.100.1/abc").verdict, Verdict::Malformed);
}

TEST(AnswerCheck, UnknownDigestTypeIsMalformed)
{
    auto a = test::make_answer({.digest = true});
    a[wire::kEnvelopeSize + wire::kHeaderSize] = 9;
    EXPECT_EQ(check_answer(message_of(a), "88.100.1/abc").verdict, Verdict::Malformed);
}

} // namespace
} // namespace idpath::gun
