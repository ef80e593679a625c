# The search subcommands from the outside (label `search`): exit status and
# what they print. Included from tests/CMakeLists.txt, this file registers
# the tests; each test runs this same file as a script (cmake -P) with
# MMSIM, ARGS (the arguments joined by '|'), RC (the exit status wanted) and optionally OUT and
# ERR (regular expressions stdout and stderr must match), and REPLAY (see tests/import.cmake).
if(CMAKE_SCRIPT_MODE_FILE)
  include(${CMAKE_CURRENT_LIST_DIR}/support/run_cli.cmake)
  # REPLAY (tests/import.cmake): the trace the command wrote must replay so.
  if(DEFINED REPLAY)
    execute_process(COMMAND ${MMSIM} replay ${REPLAY_TRACE} RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc STREQUAL REPLAY_RC OR NOT out MATCHES "${REPLAY_OUT}")
      message(FATAL_ERROR "mmsim replay ${REPLAY_TRACE}: expected ${REPLAY_RC} and "
                          "'${REPLAY_OUT}', got ${rc}:\n${out}${err}")
    endif()
  endif()
  return()
endif()

set(MMSIM_SEARCH_CLI ${CMAKE_CURRENT_LIST_FILE})
set(P08 ${CMAKE_SOURCE_DIR}/traces/patch08)

# mmsim_search_cli(NAME RC ARGS... [OUT regex] [ERR regex] [PREFIX p] [LABEL l]
#                  [RUNNER program] [ENV VAR=value])
# registers test PREFIX.NAME (default ${MMSIM_CLI_PREFIX}, else search.cli;
# label ${MMSIM_CLI_LABEL}, else search) running RUNNER ARGS (default: mmsim
# ARGS) through this file's script part. Files that register a family of
# tests set MMSIM_CLI_PREFIX and MMSIM_CLI_LABEL around their calls.
function(mmsim_search_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "OUT;ERR;PREFIX;LABEL;RUNNER;ENV" "")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  if(NOT DEFINED A_PREFIX)
    set(A_PREFIX ${MMSIM_CLI_PREFIX})
    if(NOT A_PREFIX)
      set(A_PREFIX search.cli)
    endif()
  endif()
  if(NOT DEFINED A_LABEL)
    set(A_LABEL ${MMSIM_CLI_LABEL})
    if(NOT A_LABEL)
      set(A_LABEL search)
    endif()
  endif()
  if(NOT DEFINED A_RUNNER)
    set(A_RUNNER $<TARGET_FILE:mmsim>)
  endif()
  set(defs -DMMSIM=${A_RUNNER} -DRC=${rc} -DARGS=${args})
  foreach(k OUT ERR)
    if(DEFINED A_${k})
      list(APPEND defs "-D${k}=${A_${k}}")
    endif()
  endforeach()
  add_test(NAME ${A_PREFIX}.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${MMSIM_SEARCH_CLI})
  set_tests_properties(${A_PREFIX}.${name} PROPERTIES LABELS "${A_LABEL}" TIMEOUT 30)
  if(DEFINED A_ENV)
    set_tests_properties(${A_PREFIX}.${name} PROPERTIES ENVIRONMENT "${A_ENV}")
  endif()
endfunction()

# diff: the G1 trace's GUP (line 12) is where no08 and v6 part.
mmsim_search_cli(diff-no08-v6 1 diff --patch no08,v6 ${P08}/G1-pin_user_pages-sync.trace
                 OUT "first difference at line 12: gup A pages=0 caller=pin_user_pages\n")
mmsim_search_cli(diff-same-level 0 diff --patch v6,v6 ${P08}/G1-pin_user_pages-sync.trace
                 OUT "no difference in [0-9]+ steps")
mmsim_search_cli(diff-bad-level 2 diff --patch no08,v7 ${P08}/G1-pin_user_pages-sync.trace
                 ERR "--patch takes two levels")
mmsim_search_cli(diff-one-level 2 diff --patch v6 ${P08}/G1-pin_user_pages-sync.trace
                 ERR "--patch takes two levels")
mmsim_search_cli(diff-no-patch 2 diff ${P08}/G1-pin_user_pages-sync.trace)
mmsim_search_cli(diff-bad-trace 2 diff --patch no08,v6
                 ${CMAKE_SOURCE_DIR}/traces/bad/page-outside-region.trace
                 ERR "page-outside-region.trace:[0-9]+: ")

# minimize: only an oracle violation is worth keeping.
mmsim_search_cli(minimize-passing 1 minimize ${P08}/G1-pin_user_pages-sync.trace
                 ERR "passes at this patch level")
mmsim_search_cli(minimize-g1 0 minimize --patch no08 ${P08}/G1-pin_user_pages-sync.trace
                 OUT "unobserved access, kind G1\n.*gup A pages=0 caller=pin_user_pages\n$")
mmsim_search_cli(minimize-no-file 2 minimize)
mmsim_search_cli(minimize-missing-file 2 minimize ${P08}/no-such.trace)
mmsim_search_cli(minimize-bad-level 2 minimize --patch v7 ${P08}/G1-pin_user_pages-sync.trace)
mmsim_search_cli(minimize-bad-trace 2 minimize
                 ${CMAKE_SOURCE_DIR}/traces/bad/page-outside-region.trace
                 ERR "page-outside-region.trace:[0-9]+: ")

# fuzz: zero traces is nothing found; bad options are exit 2.
mmsim_search_cli(fuzz-no-runs 0 fuzz --runs 0 -q OUT " 0 traces in ")
mmsim_search_cli(fuzz-bad-config 2 fuzz --config huge --runs 1 ERR "unknown --config 'huge'")
mmsim_search_cli(fuzz-bad-level 2 fuzz --patch v7 --runs 1)
mmsim_search_cli(fuzz-negative-runs 2 fuzz --runs -1)
mmsim_search_cli(fuzz-seed-too-big 2 fuzz --seed 4294967296 --runs 1)
mmsim_search_cli(fuzz-stray-argument 2 fuzz --runs 1 extra)

# explore: shards and depths out of range are exit 2.
mmsim_search_cli(explore-shard-past-end 2 explore --depth 1 --shard 3/2 ERR "--shard takes i/N")
mmsim_search_cli(explore-shard-of-zero 2 explore --depth 1 --shard 0/0)
mmsim_search_cli(explore-shard-garbage 2 explore --depth 1 --shard 1/2x)
mmsim_search_cli(explore-depth-too-deep 2 explore --depth 99)
mmsim_search_cli(explore-bad-config 2 explore --depth 1 --config large)
mmsim_search_cli(explore-list 0 explore --list OUT "alphabet:\n  uffd rwprotect U A mode=RWP\n")

# --kernel 6.18: mainline semantics (no RWP UAPI) and the host-observable
# letters tools/hostreplay compares with; the default kernel disagrees.
set(KDATA ${CMAKE_SOURCE_DIR}/tests/data)
mmsim_search_cli(kernel-618-refuses-rwp 0 replay --kernel 6.18 ${KDATA}/kernel-6.18-no-rwp.trace
                 OUT "PASS .*kernel 6.18")
mmsim_search_cli(kernel-rwp-accepts-rwp 1 replay ${KDATA}/kernel-6.18-no-rwp.trace
                 OUT "line 12: expect result: got ok")
mmsim_search_cli(kernel-unknown 2 replay --kernel 6.19 ${KDATA}/kernel-6.18-no-rwp.trace
                 ERR "unknown kernel '6.19'")
mmsim_search_cli(kernel-618-observe 0 replay --observe --kernel 6.18
                 ${KDATA}/kernel-6.18-observe.trace
                 OUT "@20 uffd writeprotect -> ok\n  A a3wa.a506W512\n  M S2\n  V msgs=0")
mmsim_search_cli(fuzz-host-emit 0 fuzz --host --kernel 6.18 --runs 3 -q
                 --emit ${CMAKE_BINARY_DIR}/fuzz-host-emit OUT " 3 traces in ")
mmsim_search_cli(fuzz-bad-kernel 2 fuzz --kernel 5.0 --runs 1 ERR "unknown --kernel '5.0'")

# --version names the model's version, the series and its levels, and the kernels.
mmsim_search_cli(version 0 --version
                 OUT "^mmsim 0\\.1\nmodels: Linux .*RWP series v6 .*levels no08 v5 v6\\)\nkernels \\(--kernel\\): rwp 6\\.18\n$")

# Progress: none when stderr is not a terminal; on a terminal (script(1)
# gives the replay a pty) a "step i of n" line that is erased before the verdict.
mmsim_search_cli(replay-no-progress-off-terminal 0 replay ${P08}/R1-lazyfree-restore.trace
                 ERR "^$")
find_program(SCRIPT_PROGRAM script)
if(SCRIPT_PROGRAM)
  mmsim_search_cli(replay-progress-on-terminal 0 -qec
                   "$<TARGET_FILE:mmsim> replay ${P08}/R1-lazyfree-restore.trace" /dev/null
                   RUNNER ${SCRIPT_PROGRAM} ENV MMSIM_PROGRESS_DELAY=0
                   OUT "R1-lazyfree-restore.trace: step 1 of [0-9]+ .*PASS ")
endif()
