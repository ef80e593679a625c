# tools/hostreplay tests (label `host`): run traces/host/hostreplay-*.trace
# on the running kernel and compare with the model (docs/hostreplay.md).
if(NOT TARGET hostreplay)
  return()
endif()

set(HR_TRACES ${CMAKE_SOURCE_DIR}/traces/host)
set(HR_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/run-hostreplay.cmake)

# Compared with `mmsim replay --observe --kernel 6.18`; -DEXPECTED=FILE
# compares with a recorded run instead.
set(HR_COMPARE thp-anon missing-anon wp-anon wp-async-shmem fork-wp-anon mremap-anon
    zero-wp-thp-anon reregister-superset-anon punch-split-shmem fork-anon-vma
    punch-zeropage-private-shmem shmem-never-hugepage free-split-zeropage-anon
    free-shared-thp-anon zero-read-collapse-anon fork-no-merge-anon mfill-anon-vma
    continue-past-eof-shmem serve-woken-msgs-anon)
foreach(name ${HR_COMPARE})
  add_test(NAME host.hostreplay-${name}
           COMMAND ${CMAKE_COMMAND} -DHOSTREPLAY=$<TARGET_FILE:hostreplay>
                   -DMMSIM=$<TARGET_FILE:mmsim> -DTRACE=${HR_TRACES}/hostreplay-${name}.trace
                   -DMODE=compare -P ${HR_SCRIPT})
  set_tests_properties(host.hostreplay-${name}
                       PROPERTIES LABELS "host" SKIP_REGULAR_EXPRESSION "HOSTREPLAY-SKIP"
                                  SKIP_RETURN_CODE 77 TIMEOUT 30 RUN_SERIAL TRUE)
endforeach()

add_test(NAME host.hostreplay-refused-rwp
         COMMAND ${CMAKE_COMMAND} -DHOSTREPLAY=$<TARGET_FILE:hostreplay>
                 -DTRACE=${HR_TRACES}/hostreplay-refused-rwp.trace -DMODE=exit -DEXIT=3
                 "-DSTDERR=hostreplay-refused-rwp.trace:5: not host-expressible: "
                 -P ${HR_SCRIPT})
# Malformed input is written here, not under traces/ (every trace there is
# replayed by the model and must parse).
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/hostreplay-bad-input.trace
     "# hostreplay: malformed input gives file:line: message and exit 2.\n"
     "process P\nmmap A proc=P len=16K prot=rw map=private\nread A page=0\n")
add_test(NAME host.hostreplay-bad-input
         COMMAND ${CMAKE_COMMAND} -DHOSTREPLAY=$<TARGET_FILE:hostreplay>
                 -DTRACE=${CMAKE_CURRENT_BINARY_DIR}/hostreplay-bad-input.trace -DMODE=exit -DEXIT=2
                 "-DSTDERR=hostreplay-bad-input.trace:4: unknown key 'page'"
                 -P ${HR_SCRIPT})
set_tests_properties(host.hostreplay-refused-rwp host.hostreplay-bad-input
                     PROPERTIES LABELS "host" TIMEOUT 30)
