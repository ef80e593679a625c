# tools/record from the outside (label `record`): record /bin/true under
# strace, and under valgrind lackey with the RWP overlay, convert, and check
# the trace has its provenance header and replays clean at v6. Skipped
# (exit 77) when strace or valgrind is missing (tools/setup-deps installs
# both).
if(CMAKE_SCRIPT_MODE_FILE)
  find_program(TOOL ${NEED})
  if(NOT TOOL)
    message("SKIP: ${NEED} is not installed (tools/setup-deps installs it)")
    # ctest SKIP_REGULAR_EXPRESSION matches the line above
    return()
  endif()
  string(REPLACE "|" ";" OPTS "${OPTS}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env MMSIM=${MMSIM} ${RECORD} ${OPTS} -o ${OUT}
                          -- /bin/true
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tools/record failed (${rc}):\n${out}\n${err}")
  endif()
  file(READ ${OUT} text)
  foreach(want "# recorded by tools/record" ": /bin/true\n" "# program: coreutils "
               "# kernel:" "\nprocess p1\n" "\nmmap ")
    string(FIND "${text}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${OUT} lacks '${want}':\n${text}")
    endif()
  endforeach()
  foreach(want ${WANT})
    string(FIND "${text}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${OUT} lacks '${want}'")
    endif()
  endforeach()
  execute_process(COMMAND ${MMSIM} replay ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the recording does not replay clean:\n${out}")
  endif()
  return()
endif()

foreach(kind strace lackey)
  if(kind STREQUAL "strace")
    set(need strace)
    set(opts "")
    set(want "")
  else()
    set(need valgrind)
    set(opts "--lackey|--overlay|rwp")
    set(want "mode=RWP" "\nread " "pagemap-scan ")
  endif()
  add_test(NAME record.${kind}.true
           COMMAND ${CMAKE_COMMAND} -DNEED=${need} -DMMSIM=$<TARGET_FILE:mmsim>
                   -DRECORD=${CMAKE_SOURCE_DIR}/tools/record "-DOPTS=${opts}" "-DWANT=${want}"
                   -DOUT=${CMAKE_CURRENT_BINARY_DIR}/record-${kind}-true.trace
                   -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(record.${kind}.true PROPERTIES LABELS "record;import" TIMEOUT 120
                       SKIP_REGULAR_EXPRESSION "SKIP: ")
endforeach()
