# Replay TRACES at v6 with one mutation switch on: at least one must FAIL
# (exit 1), and none may be bad input (exit 2).
execute_process(COMMAND ${MMSIM} replay --hunk ${HUNK}=on ${TRACES}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "mutation ${HUNK}: expected a FAIL (exit 1), got exit ${rc}\n${out}${err}")
endif()
string(REGEX MATCH "FAIL [^\n]*" first "${out}")
message(STATUS "mutation ${HUNK} caught: ${first}")
