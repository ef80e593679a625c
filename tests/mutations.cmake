# Breaking any one RWP preservation rule must make a bundled trace fail.
# Each mutation switch (sim/patch.c, "mutation: ...") breaks one rule in one
# path; the path and selftest traces, which all pass at v6, are replayed with
# it on and at least one must report a violation (exit status 1).
file(GLOB MMSIM_RULE_TRACES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/traces/paths/*.trace
     ${CMAKE_SOURCE_DIR}/traces/selftests/*.trace)
foreach(m migrate-no-reforce numa-rebuild-all split-no-reforce swapin-no-restore
          mprotect-no-reforce huge-pmd-no-reforce swapoff-no-restore zap-rwp-marker
          deferred-split-no-reforce
          fork-no-normalise mremap-no-normalise move-no-arm exclusive-no-restore)
  add_test(NAME mutation.${m}
           COMMAND ${CMAKE_COMMAND} -DMMSIM=$<TARGET_FILE:mmsim> -DHUNK=${m}
                   "-DTRACES=${MMSIM_RULE_TRACES}" -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_mutation_caught.cmake)
  set_tests_properties(mutation.${m} PROPERTIES LABELS "trace;oracle;mutation")
endforeach()
