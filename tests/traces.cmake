# Trace replay under ctest: every bundled trace at every patch level must
# give the verdict recorded in traces/patch08/verdicts.expected, and every
# other bundled trace must pass at v6.
add_test(NAME trace.patch08.verdicts
         COMMAND mmsim verdicts --check ${CMAKE_SOURCE_DIR}/traces/patch08/verdicts.expected
                 ${CMAKE_SOURCE_DIR}/traces/patch08)
set_tests_properties(trace.patch08.verdicts PROPERTIES LABELS "trace;oracle;khugepaged;rmap;gup")

# What the search tools found (docs/findings.md): each minimized trace with
# its verdict at every patch level, in traces/found/verdicts.expected.
add_test(NAME trace.found.verdicts
         COMMAND mmsim verdicts --check ${CMAKE_SOURCE_DIR}/traces/found/verdicts.expected
                 ${CMAKE_SOURCE_DIR}/traces/found)
set_tests_properties(trace.found.verdicts PROPERTIES LABELS "trace;oracle;search")

file(GLOB MMSIM_OTHER_TRACES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/traces/*/*.trace)
foreach(t ${MMSIM_OTHER_TRACES})
  if(NOT t MATCHES "/traces/(patch08|bad|found)/")
    get_filename_component(dir ${t} DIRECTORY)
    get_filename_component(group ${dir} NAME)
    get_filename_component(name ${t} NAME_WE)
    # traces/host/ states what mainline 6.18 does (tools/conformance runs
    # them on the host too): replay them with that kernel's semantics.
    if(group STREQUAL "host")
      add_test(NAME trace.${group}.${name} COMMAND mmsim replay --kernel 6.18 ${t})
    else()
      add_test(NAME trace.${group}.${name} COMMAND mmsim replay ${t})
    endif()
    set_tests_properties(trace.${group}.${name} PROPERTIES LABELS "trace;${group}")
  endif()
endforeach()

# Malformed traces: file:line: message and exit status 2, never a crash.
file(GLOB MMSIM_BAD_TRACES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/traces/bad/*.trace)
foreach(t ${MMSIM_BAD_TRACES})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME trace.bad.${name}
           COMMAND ${CMAKE_COMMAND} -DMMSIM=$<TARGET_FILE:mmsim> -DTRACE=${t}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_bad_input.cmake)
  set_tests_properties(trace.bad.${name} PROPERTIES LABELS "trace")
endforeach()
