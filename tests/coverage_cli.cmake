# CLI paths the other CLI tests leave out (label `cli`), added to bring sim/
# line coverage to its target (docs/coverage.md): fuzz's --print/--verbose
# lines and its progress line on a terminal, option and file errors of diff,
# replay and report, a report written to stdout, verdicts over bad traces.
# The runner is search_cli.cmake's (included before this file).
set(P08 ${CMAKE_SOURCE_DIR}/traces/patch08)

# Tests cli.cov.NAME, label cli (tests/search_cli.cmake's mmsim_search_cli).
set(MMSIM_CLI_PREFIX cli.cov)
set(MMSIM_CLI_LABEL cli)

# Seed 4 at no08: traces 0-2 pass, trace 3 fails (an unobserved GUP read of
# an armed page), trace 4 is refused by the engine.
mmsim_search_cli(fuzz-print-verbose 1 fuzz --patch no08 --seed 4 --runs 5 -q -v --print
              OUT "^# trace 0 \\(seed [0-9]+\\): PASS \n.*# trace 3 \\(seed [0-9]+\\): FAIL unobserved access\n.*\ntrace 3: FAIL: line 30: unobserved access at .*# trace 4 \\(seed [0-9]+\\): BAD bad input\n.*\ntrace 4: BAD: fuzz.trace:19: .*: 5 traces in .*3 pass, 1 fail, 1 bad input; 1 violation classes\n")
mmsim_search_cli(diff-bad-option 2 diff --bogus ERR "^mmsim diff: Unknown option --bogus\n$")
mmsim_search_cli(diff-missing-file 2 diff --patch no08,v6 ${P08}/no-such.trace
              ERR "no-such.trace:0: ")
mmsim_search_cli(replay-json-verbose 2 replay --json --verbose ${P08}/R1-lazyfree-restore.trace
              ERR "^mmsim replay: --json cannot be combined with --verbose or --observe\n$")
mmsim_search_cli(report-bad-option 2 report --bogus ERR "^mmsim report: Unknown option --bogus\n$")
mmsim_search_cli(report-to-stdout 0 report -o - ${P08}/R1-lazyfree-restore.trace
              OUT "^<!DOCTYPE html>\n.*</html>\n$"
              ERR "^PASS .*R1-lazyfree-restore.trace \\[v6\\]\nwrote -: [0-9]+ steps, [0-9]+ bytes\n$")
# Every malformed trace is BAD at every level: exit status 2.
mmsim_search_cli(verdicts-bad-traces 2 verdicts ${CMAKE_SOURCE_DIR}/traces/bad
              OUT "bad-flag +BAD +BAD +BAD")

# fuzz on a terminal (script(1) gives it a pty): the progress line every
# 0.5 s, a newline before each find and one at the end. --time 1.2 makes
# sure a line is due; trace 3 (the find) comes after about 0.3 s in dev.
find_program(SCRIPT_PROGRAM script)
if(SCRIPT_PROGRAM)
  mmsim_search_cli(fuzz-progress-on-terminal 1 -qec
                "$<TARGET_FILE:mmsim> fuzz --patch no08 --seed 4 --time 1.2" /dev/null
                RUNNER ${SCRIPT_PROGRAM}
                OUT "\rfuzz: [0-9]+ traces, [0-9]+/s, [0-9]+ finds .*fuzz --seed 4 --patch no08 --config small: [0-9]+ traces in ")
endif()
unset(MMSIM_CLI_PREFIX)
unset(MMSIM_CLI_LABEL)
