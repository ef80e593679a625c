# Run mmsim replay on a malformed trace: it must exit 2 and print
# "<file>:<line>: <message>" on stderr.
execute_process(COMMAND ${MMSIM} replay ${TRACE} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit status 2, got ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
string(REGEX MATCH "^[^\n]*${TRACE}:[0-9]+: [^\n]+" found "${err}")
if(NOT found)
  message(FATAL_ERROR "expected '${TRACE}:<line>: <message>' on stderr, got: ${err}")
endif()
