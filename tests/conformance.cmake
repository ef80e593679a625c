# The conformance suite (label `host`): generated host-expressible traces and
# the hand-written WP scenarios of traces/host/, run through the model
# (--kernel 6.18) and on the running kernel by tools/hostreplay, compared
# line by line by tools/conformance. Four shards of 55 generated traces run
# in parallel; each is skipped (exit 77) with its reason when the host cannot
# run userfaultfd or MADV_COLLAPSE (not root).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  foreach(shard RANGE 0 3)
    math(EXPR first "${shard} * 55")
    add_test(NAME host.conformance.generated.${shard}
             COMMAND ${CMAKE_SOURCE_DIR}/tools/conformance --build ${CMAKE_BINARY_DIR}
                     --only-generated --runs 55 --first ${first})
    set_tests_properties(host.conformance.generated.${shard} PROPERTIES
      LABELS "host" SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL FALSE)
  endforeach()
  add_test(NAME host.conformance.handwritten
           COMMAND ${CMAKE_SOURCE_DIR}/tools/conformance --build ${CMAKE_BINARY_DIR}
                   --only-handwritten)
  set_tests_properties(host.conformance.handwritten PROPERTIES
    LABELS "host" SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
