# CLI paths the other CLI tests leave out (label `cli`), added to bring sim/
# line coverage to its target (docs/coverage.md): fuzz's --print/--verbose
# lines and its progress line on a terminal, option and file errors of diff,
# replay and report, a report written to stdout, verdicts over bad traces.
# The runner is search_cli.cmake's (included before this file).
set(P08 ${CMAKE_SOURCE_DIR}/traces/patch08)

# mmsim_cov_cli(NAME RC ARGS... [OUT regex] [ERR regex])
function(mmsim_cov_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "OUT;ERR" "")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  set(defs -DMMSIM=$<TARGET_FILE:mmsim> -DRC=${rc} -DARGS=${args})
  foreach(k OUT ERR)
    if(DEFINED A_${k})
      list(APPEND defs "-D${k}=${A_${k}}")
    endif()
  endforeach()
  add_test(NAME cli.cov.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${MMSIM_SEARCH_CLI})
  set_tests_properties(cli.cov.${name} PROPERTIES LABELS "cli" TIMEOUT 30)
endfunction()

# Seed 4 at no08: traces 0-2 pass, trace 3 fails (an unobserved GUP read of
# an armed page), trace 4 is refused by the engine.
mmsim_cov_cli(fuzz-print-verbose 1 fuzz --patch no08 --seed 4 --runs 5 -q -v --print
              OUT "^# trace 0 \\(seed [0-9]+\\): PASS \n.*# trace 3 \\(seed [0-9]+\\): FAIL unobserved access\n.*\ntrace 3: FAIL: line 30: unobserved access at .*# trace 4 \\(seed [0-9]+\\): BAD bad input\n.*\ntrace 4: BAD: fuzz.trace:19: .*: 5 traces in .*3 pass, 1 fail, 1 bad input; 1 violation classes\n")
mmsim_cov_cli(diff-bad-option 2 diff --bogus ERR "^mmsim diff: Unknown option --bogus\n$")
mmsim_cov_cli(diff-missing-file 2 diff --patch no08,v6 ${P08}/no-such.trace
              ERR "no-such.trace:0: ")
mmsim_cov_cli(replay-json-verbose 2 replay --json --verbose ${P08}/R1-lazyfree-restore.trace
              ERR "^mmsim replay: --json cannot be combined with --verbose or --observe\n$")
mmsim_cov_cli(report-bad-option 2 report --bogus ERR "^mmsim report: Unknown option --bogus\n$")
mmsim_cov_cli(report-to-stdout 0 report -o - ${P08}/R1-lazyfree-restore.trace
              OUT "^<!DOCTYPE html>\n.*</html>\n$"
              ERR "^PASS .*R1-lazyfree-restore.trace \\[v6\\]\nwrote -: [0-9]+ steps, [0-9]+ bytes\n$")
# Every malformed trace is BAD at every level: exit status 2.
mmsim_cov_cli(verdicts-bad-traces 2 verdicts ${CMAKE_SOURCE_DIR}/traces/bad
              OUT "bad-flag +BAD +BAD +BAD")

# fuzz on a terminal (script(1) gives it a pty): the progress line every
# 0.5 s, a newline before each find and one at the end. --time 1.2 makes
# sure a line is due; trace 3 (the find) comes after about 0.3 s in dev.
find_program(SCRIPT_PROGRAM script)
if(SCRIPT_PROGRAM)
  add_test(NAME cli.cov.fuzz-progress-on-terminal
           COMMAND ${CMAKE_COMMAND} -DMMSIM=${SCRIPT_PROGRAM} -DRC=1
                   "-DARGS=-qec|$<TARGET_FILE:mmsim> fuzz --patch no08 --seed 4 --time 1.2|/dev/null"
                   "-DOUT=\rfuzz: [0-9]+ traces, [0-9]+/s, [0-9]+ finds .*fuzz --seed 4 --patch no08 --config small: [0-9]+ traces in "
                   -P ${MMSIM_SEARCH_CLI})
  set_tests_properties(cli.cov.fuzz-progress-on-terminal PROPERTIES LABELS "cli" TIMEOUT 30)
endif()
