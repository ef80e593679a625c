# Runs tools/hostreplay on one trace (ctest label `host`; docs/hostreplay.md).
#
#   -DHOSTREPLAY=... -DTRACE=... -DMODE=compare [-DMMSIM=...] [-DEXPECTED=file]
#       the observation blocks must equal EXPECTED, or else those of
#       `mmsim replay --observe --kernel 6.18` on the same trace
#   -DHOSTREPLAY=... -DTRACE=... -DMODE=exit -DEXIT=N -DSTDERR=regex
#       hostreplay must exit N with a stderr line matching regex
#
# A host that cannot run the trace (no userfaultfd, no MADV_COLLAPSE, THP
# settings other than the trace's) prints HOSTREPLAY-SKIP, which the test's
# SKIP_REGULAR_EXPRESSION turns into a skip.
if(MODE STREQUAL "exit")
  execute_process(COMMAND ${HOSTREPLAY} ${TRACE} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL EXIT)
    message(FATAL_ERROR "hostreplay exited ${rc}, expected ${EXIT}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(NOT err MATCHES "${STDERR}")
    message(FATAL_ERROR "stderr does not match '${STDERR}': ${err}")
  endif()
  return()
endif()

execute_process(COMMAND ${HOSTREPLAY} --check RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0)
  message("HOSTREPLAY-SKIP: ${out}")
  return()
endif()
execute_process(COMMAND ${HOSTREPLAY} ${TRACE} RESULT_VARIABLE rc OUTPUT_VARIABLE host
                ERROR_VARIABLE err)
if(rc EQUAL 77 OR rc EQUAL 3)
  message("HOSTREPLAY-SKIP: this host cannot run the trace: ${err}")
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "hostreplay exited ${rc}: ${err}")
endif()

if(EXPECTED)
  file(READ ${EXPECTED} want)
  set(what ${EXPECTED})
else()
  execute_process(COMMAND ${MMSIM} replay --observe --kernel 6.18 ${TRACE}
                  RESULT_VARIABLE mrc OUTPUT_VARIABLE model ERROR_VARIABLE merr)
  # keep the observation blocks, drop the PASS/FAIL line
  string(REGEX MATCHALL "[^\n]+" lines "${model}")
  set(want "")
  foreach(l IN LISTS lines)
    if(l MATCHES "^(@|  )")
      string(APPEND want "${l}\n")
    endif()
  endforeach()
  set(what "mmsim replay --observe --kernel 6.18")
endif()

if(NOT host STREQUAL want)
  get_filename_component(name ${TRACE} NAME_WE)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}.host "${host}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}.want "${want}")
  message(FATAL_ERROR "the host's observations differ from ${what}: "
                      "diff ${CMAKE_CURRENT_BINARY_DIR}/${name}.want ${CMAKE_CURRENT_BINARY_DIR}/${name}.host\n${err}")
endif()
