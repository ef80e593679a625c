# The script part every CLI test shares (tests/search_cli.cmake,
# report.cmake, json_cli.cmake): run ${MMSIM} with ARGS (joined by '|'),
# leave stdout, stderr and the command line in `out`, `err` and `cmd`, and
# fail unless the exit status is RC and stdout and stderr match OUT and ERR
# (regular expressions, each optional). include() it from cmake -P mode.
string(REPLACE "|" ";" ARGS "${ARGS}")
execute_process(COMMAND ${MMSIM} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
string(REPLACE ";" " " cmd "${ARGS}")
if(NOT rc STREQUAL RC)
  message(FATAL_ERROR "mmsim ${cmd}: expected exit status ${RC}, got ${rc}\n"
                      "stdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED OUT AND NOT out MATCHES "${OUT}")
  message(FATAL_ERROR "mmsim ${cmd}: stdout does not match '${OUT}':\n${out}")
endif()
if(DEFINED ERR AND NOT err MATCHES "${ERR}")
  message(FATAL_ERROR "mmsim ${cmd}: stderr does not match '${ERR}':\n${err}")
endif()
