// Running a RapidCheck property inside a GoogleTest test with a fixed seed and case count, so a failing
// run replays exactly, and reporting RapidCheck's verdict (with its shrunk counterexample) on failure.
#pragma once

#include <cstdint>
#include <iostream>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>

namespace synod::testing_support {

template <typename Property>
rc::detail::TestResult check_property(const std::string& id, int cases, uint64_t seed, Property property) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = cases;
  rc::detail::TestMetadata metadata;
  metadata.id = id;
  return rc::detail::checkTestable(property, metadata, params);
}

inline void expect_success(const rc::detail::TestResult& result, int cases) {
  rc::detail::printResultMessage(result, std::cout);
  std::cout << '\n';
  ASSERT_TRUE(result.is<rc::detail::SuccessResult>());
  EXPECT_EQ(result.get<rc::detail::SuccessResult>().numSuccess, cases);
}

}  // namespace synod::testing_support
