#pragma once
/// A fixture whose every test gets an empty directory of its own under the temp directory
/// (named after the process, suite and test, so suites running at once never share one),
/// removed afterwards with all it holds.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace idpath::test_support {

class FreshDirTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               ("idpath-" + std::to_string(::getpid()) + "-" + t->test_suite_name() + "-" + t->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
};

} // namespace idpath::test_support
