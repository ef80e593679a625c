# The report page in a real browser (label `browser`): tools/browser-check
# opens the page report.cli.k1-no08 wrote (tests/report.cmake) in headless
# Chromium through chromedriver, waits for it to render, checks the grid and
# the violation box, takes a screenshot and fails on any console error.
# Skipped (exit 77, with the reason) when python3, chromium or chromedriver
# is missing: Debian packages python3 chromium chromium-driver
# (tools/setup-deps).
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME browser.report-k1
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/browser-check --violation
                   --screenshot ${CMAKE_CURRENT_BINARY_DIR}/report/K1-madv-collapse-no08.png
                   ${CMAKE_CURRENT_BINARY_DIR}/report/K1-madv-collapse-no08.html)
else()
  add_test(NAME browser.report-k1
           COMMAND sh -c "echo 'SKIP: python3 not found (Debian: apt-get install python3)'; exit 77")
endif()
set_tests_properties(browser.report-k1 PROPERTIES LABELS "browser" SKIP_RETURN_CODE 77
                     FIXTURES_REQUIRED report_k1_page TIMEOUT 60)
