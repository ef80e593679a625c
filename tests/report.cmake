# mmsim report from the outside (label `report`): exit status, messages and
# the page it writes. Included from tests/CMakeLists.txt, this file
# registers the tests; each runs this same file as a script (cmake -P) with
# MMSIM, ARGS (joined by '|'), RC (the exit status wanted), optionally OUT
# and ERR (regular expressions for stdout and stderr), and PAGE (the -o file)
# with either PAGE_HAS (a regular expression it must match) or PAGE_NONE
# (it must not be written).
if(CMAKE_SCRIPT_MODE_FILE)
  if(DEFINED PAGE)
    file(REMOVE ${PAGE}) # a page left by an earlier run proves nothing
  endif()
  include(${CMAKE_CURRENT_LIST_DIR}/support/run_cli.cmake)
  if(DEFINED PAGE_NONE AND EXISTS ${PAGE})
    message(FATAL_ERROR "mmsim ${cmd}: wrote ${PAGE} on bad input")
  endif()
  if(DEFINED PAGE_HAS)
    if(NOT EXISTS ${PAGE})
      message(FATAL_ERROR "mmsim ${cmd}: no page written at ${PAGE}")
    endif()
    file(READ ${PAGE} page)
    if(NOT page MATCHES "${PAGE_HAS}")
      message(FATAL_ERROR "mmsim ${cmd}: ${PAGE} does not match '${PAGE_HAS}'")
    endif()
    string(TOLOWER "${page}" lower)
    if(lower MATCHES "http")
      message(FATAL_ERROR "mmsim ${cmd}: ${PAGE} names a URL")
    endif()
  endif()
  return()
endif()

set(MMSIM_REPORT_CLI ${CMAKE_CURRENT_LIST_FILE})
set(MMSIM_REPORT_DIR ${CMAKE_CURRENT_BINARY_DIR}/report)
file(MAKE_DIRECTORY ${MMSIM_REPORT_DIR})

# mmsim_report_cli(NAME RC ARGS... [OUT regex] [ERR regex] [PAGE file]
#                  [PAGE_HAS regex] [PAGE_NONE])
function(mmsim_report_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "PAGE_NONE" "OUT;ERR;PAGE;PAGE_HAS" "")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  set(defs -DMMSIM=$<TARGET_FILE:mmsim> -DRC=${rc} -DARGS=${args})
  foreach(key OUT ERR PAGE PAGE_HAS)
    if(DEFINED A_${key})
      list(APPEND defs "-D${key}=${A_${key}}")
    endif()
  endforeach()
  if(A_PAGE_NONE)
    list(APPEND defs -DPAGE_NONE=1)
  endif()
  add_test(NAME report.cli.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${MMSIM_REPORT_CLI})
  set_tests_properties(report.cli.${name} PROPERTIES LABELS "report" TIMEOUT 60)
endfunction()

set(K1 ${CMAKE_SOURCE_DIR}/traces/patch08/K1-madv-collapse.trace)
set(K1_PAGE ${MMSIM_REPORT_DIR}/K1-madv-collapse-no08.html)

# A failing trace: exit 1, and the page is written with its violation.
mmsim_report_cli(k1-no08 1 report --patch no08 ${K1} -o ${K1_PAGE}
                 OUT "FAIL .*K1-madv-collapse.trace \\[no08\\]: line 31: false access.*\nwrote "
                 PAGE ${K1_PAGE}
                 PAGE_HAS "\"invariant\":\"false access\",.*\"before_state\":\"armed\"")
set_tests_properties(report.cli.k1-no08 PROPERTIES FIXTURES_SETUP report_k1_page)
# The same trace passes at v6: exit 0, no violation in the page.
mmsim_report_cli(k1-v6 0 report ${K1} -o ${MMSIM_REPORT_DIR}/K1-v6.html
                 OUT "^PASS .*\\[v6\\]\nwrote .*K1-v6.html: [0-9]+ steps"
                 PAGE ${MMSIM_REPORT_DIR}/K1-v6.html PAGE_HAS "\"violation\":null")
# A race window (nested steps) and a hunk override.
mmsim_report_cli(k2-race-hunk 0 report --patch no08 --hunk 08b=on
                 ${CMAKE_SOURCE_DIR}/traces/patch08/K2-retract-race.trace
                 -o ${MMSIM_REPORT_DIR}/K2-race.html
                 PAGE ${MMSIM_REPORT_DIR}/K2-race.html PAGE_HAS "\"depth\":1,")
# Bad input: exit 2 with file:line, no page.
mmsim_report_cli(bad-trace 2 report ${CMAKE_SOURCE_DIR}/traces/bad/page-outside-region.trace
                 -o ${MMSIM_REPORT_DIR}/bad.html
                 ERR "page-outside-region.trace:3: page 2 is outside region 'A'"
                 PAGE ${MMSIM_REPORT_DIR}/bad.html PAGE_NONE)
mmsim_report_cli(parse-error 2 report ${CMAKE_SOURCE_DIR}/traces/bad/bad-flag.trace
                 -o ${MMSIM_REPORT_DIR}/bad.html ERR "bad-flag.trace:4: unknown flag"
                 PAGE ${MMSIM_REPORT_DIR}/bad.html PAGE_NONE)
mmsim_report_cli(no-output 2 report ${K1} ERR "give one trace FILE and -o OUT")
mmsim_report_cli(two-files 2 report ${K1} ${K1} -o ${MMSIM_REPORT_DIR}/two.html
                 ERR "give one trace FILE")
mmsim_report_cli(missing-file 2 report ${CMAKE_SOURCE_DIR}/traces/patch08/no-such.trace
                 -o ${MMSIM_REPORT_DIR}/missing.html)
mmsim_report_cli(bad-level 2 report --patch v7 ${K1} -o ${MMSIM_REPORT_DIR}/v7.html
                 ERR "unknown patch level 'v7'")
mmsim_report_cli(bad-kernel 2 report --kernel 5.4 ${K1} -o ${MMSIM_REPORT_DIR}/k.html
                 ERR "unknown kernel '5.4'")
mmsim_report_cli(unwritable 2 report ${K1} -o ${MMSIM_REPORT_DIR}/no-such-dir/x.html
                 ERR "mmsim report: .*no-such-dir")
