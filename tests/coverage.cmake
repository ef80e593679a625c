# tools/coverage-summary on checked-in data (label `coverage`): the Markdown
# it writes, its --check status, its bad-input message, and that the real
# group table (tools/coverage-paths.txt) still claims every sim/ file once.
# Included from tests/CMakeLists.txt, this file registers the tests; each
# test runs this same file as a script (cmake -P) with PYTHON, ARGS (joined
# by '|'), RC, and optionally EXPECT (a file stdout must equal) and ERR (a
# regular expression stderr must match).
if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "|" ";" ARGS "${ARGS}")
  execute_process(COMMAND ${PYTHON} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  string(REPLACE ";" " " cmd "${ARGS}")
  if(NOT rc STREQUAL RC)
    message(FATAL_ERROR "${cmd}: expected exit status ${RC}, got ${rc}\n"
                        "stdout:\n${out}\nstderr:\n${err}")
  endif()
  if(DEFINED EXPECT)
    file(READ ${EXPECT} want)
    if(NOT out STREQUAL want)
      message(FATAL_ERROR "${cmd}: stdout differs from ${EXPECT}:\n${out}")
    endif()
  endif()
  if(DEFINED ERR AND NOT err MATCHES "${ERR}")
    message(FATAL_ERROR "${cmd}: stderr does not match '${ERR}':\n${err}")
  endif()
  return()
endif()

find_program(MMSIM_PYTHON3 python3)
if(NOT MMSIM_PYTHON3)
  message(STATUS "python3 not found: the coverage summariser tests are not registered")
  return()
endif()

set(MMSIM_COVERAGE_CLI ${CMAKE_CURRENT_LIST_FILE})
set(COV_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/coverage)
set(COV_SAMPLE --paths ${COV_DATA}/paths.txt --source-dir ${COV_DATA})

# mmsim_coverage_cli(NAME RC ARGS... [EXPECT file] [ERR regex])
function(mmsim_coverage_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "EXPECT;ERR" "")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  set(defs -DPYTHON=${MMSIM_PYTHON3} -DRC=${rc}
           "-DARGS=${CMAKE_SOURCE_DIR}/tools/coverage-summary|${args}")
  if(DEFINED A_EXPECT)
    list(APPEND defs -DEXPECT=${A_EXPECT})
  endif()
  if(DEFINED A_ERR)
    list(APPEND defs "-DERR=${A_ERR}")
  endif()
  add_test(NAME coverage.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${MMSIM_COVERAGE_CLI})
  set_tests_properties(coverage.${name} PROPERTIES LABELS "coverage" TIMEOUT 30)
endfunction()

# The group table and per-function table of a three-file sample (two
# groups under sim/, model/ outside the total, one file outside the tree).
mmsim_coverage_cli(summary-sample 0 ${COV_SAMPLE} summary --function demo_gate
                   --function check_sum ${COV_DATA}/sample.info
                   EXPECT ${COV_DATA}/sample-summary.md)
# demo_gate takes 2 of its 4 branches: --check fails.
mmsim_coverage_cli(summary-check-short 1 ${COV_SAMPLE} summary --check --function demo_gate
                   ${COV_DATA}/sample.info)
mmsim_coverage_cli(summary-check-full 0 ${COV_SAMPLE} summary --check --function check_sum
                   ${COV_DATA}/sample.info)
mmsim_coverage_cli(summary-check-missing 1 ${COV_SAMPLE} summary --check --function nowhere
                   ${COV_DATA}/sample.info)
mmsim_coverage_cli(bad-info 2 ${COV_SAMPLE} summary ${COV_DATA}/bad.info
                   ERR "bad.info:4: malformed DA record")
mmsim_coverage_cli(sample-table 0 ${COV_SAMPLE} check)
# The real table: a new sim/ file must be given a group.
mmsim_coverage_cli(paths-table 0 --source-dir ${CMAKE_SOURCE_DIR} check)
