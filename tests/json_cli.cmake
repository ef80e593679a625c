# `--json` documents from the outside (label `json`): replay, fuzz and explore
# must print one JSON object whose members say what the text output says.
# Included from tests/CMakeLists.txt, this file registers the tests; each test
# runs this file as a script (cmake -P) with MMSIM, ARGS (joined by '|'), RC
# (the exit status wanted) and CHECKS: "member.path=value" items joined by '|',
# where the path is dot-separated (array indexes are numbers), the value is
# compared with string(JSON GET) (booleans read ON/OFF), and "path:=TYPE"
# compares string(JSON TYPE) instead (NULL, OBJECT, ARRAY, ...), "path#=N" the
# number of elements.
if(CMAKE_SCRIPT_MODE_FILE)
  include(${CMAKE_CURRENT_LIST_DIR}/support/run_cli.cmake)
  string(JSON exit_member ERROR_VARIABLE jerr GET "${out}" exit)
  if(jerr)
    message(FATAL_ERROR "mmsim ${cmd}: stdout is not a document with an exit member: "
                        "${jerr}\n${out}")
  endif()
  if(NOT exit_member STREQUAL RC)
    message(FATAL_ERROR "mmsim ${cmd}: exit member ${exit_member}, exit status ${rc}")
  endif()
  string(REPLACE "|" ";" CHECKS "${CHECKS}")
  foreach(check IN LISTS CHECKS)
    if(check MATCHES "^([^=:#]+):=(.*)$")
      set(mode TYPE)
    elseif(check MATCHES "^([^=#]+)#=(.*)$")
      set(mode LENGTH)
    elseif(check MATCHES "^([^=]+)=(.*)$")
      set(mode GET)
    else()
      message(FATAL_ERROR "bad check '${check}'")
    endif()
    set(want "${CMAKE_MATCH_2}")
    string(REPLACE "." ";" path "${CMAKE_MATCH_1}")
    string(JSON got ERROR_VARIABLE jerr ${mode} "${out}" ${path})
    if(jerr OR NOT got STREQUAL want)
      message(FATAL_ERROR "mmsim ${cmd}: ${check}: got '${got}' ${jerr}\n${out}")
    endif()
  endforeach()
  return()
endif()

set(MMSIM_JSON_CLI ${CMAKE_CURRENT_LIST_FILE})

# mmsim_json_cli(NAME RC ARGS... CHECKS check...)
function(mmsim_json_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "CHECKS")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  string(REPLACE ";" "|" checks "${A_CHECKS}")
  add_test(NAME json.${name}
           COMMAND ${CMAKE_COMMAND} -DMMSIM=$<TARGET_FILE:mmsim> -DRC=${rc} -DARGS=${args}
                   -DCHECKS=${checks} -P ${MMSIM_JSON_CLI})
  set_tests_properties(json.${name} PROPERTIES LABELS "json;search" TIMEOUT 60)
endfunction()

set(P08 ${CMAKE_SOURCE_DIR}/traces/patch08)
# K1 at no08: a false access at the collapse (line 31), classified K1 (08a).
mmsim_json_cli(replay-fail 1 replay --json --patch no08 ${P08}/K1-madv-collapse.trace
               ${P08}/R1-lazyfree-restore.trace
  CHECKS command=replay patch=no08 kernel=rwp hunks.08a=OFF oracle=on
         traces.0.verdict=fail "traces.0.failure.invariant=false access"
         traces.0.failure.kind=K1 traces.0.failure.line=31 traces.0.failure.command=madvise
         traces.0.failure.region=A traces.0.failure.page=0
         traces.1.verdict=pass traces.1.failure:=NULL traces.1.message:=NULL)
mmsim_json_cli(replay-pass 0 replay --json ${P08}/K1-madv-collapse.trace
  CHECKS patch=v6 hunks.08a=ON traces.0.verdict=pass)
# --hunk overrides that match no level: patch is null, the switches say what ran.
mmsim_json_cli(replay-custom 0 replay --json --patch v6 --hunk 08a=off
               ${P08}/R1-lazyfree-restore.trace
  CHECKS patch:=NULL hunks.08a=OFF hunks.08b=ON)
mmsim_json_cli(replay-bad-input 2 replay --json ${CMAKE_SOURCE_DIR}/traces/bad/unknown-command.trace
  CHECKS traces.0.verdict=bad-input "traces.0.failure.invariant=bad input" traces.0.failure.line=2
         traces.0.failure.command:=NULL)
mmsim_json_cli(replay-kernel 0 replay --json --kernel 6.18
               ${CMAKE_SOURCE_DIR}/traces/host/hostreplay-fork-wp-anon.trace
  CHECKS kernel=6.18 traces.0.verdict=pass)
# The first G1 of campaign seed 2 at no08 is trace 32 (fuzz is deterministic).
mmsim_json_cli(fuzz-find 1 fuzz --json --patch no08 --seed 2 --runs 40 -q
  CHECKS command=fuzz seed=2 traces=40 finds.0.class=G1 finds.0.trace=32
         "finds.0.failure.invariant=unobserved access" finds.0.failure.command=gup
         finds.0.minimized_steps=8 "finds#=1")
mmsim_json_cli(fuzz-none 0 fuzz --json --runs 5 -q CHECKS traces=5 finds:=ARRAY "finds#=0")
mmsim_json_cli(explore-depth1 0 explore --json --depth 1 -q
  CHECKS command=explore depth=1 states=16 states_per_depth.0=1 states_per_depth.1=15
         shard.1=1 "violations#=0")
