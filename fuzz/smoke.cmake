# ctest fuzz.smoke: libFuzzer over the seed corpus and fuzz/regress (past
# crashes, kept as inputs), then mutations up to 500 runs in all.
# -DFUZZER=<mmsim_fuzzer> -DCORPUS=<seed corpus> -DREGRESS=<fuzz/regress>
# -DWORK=<scratch dir>. New inputs and any crash file go to WORK (emptied
# first), so the seed corpus stays as built.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/new)
execute_process(COMMAND ${FUZZER} -runs=500 -seed=1 -timeout=10 -rss_limit_mb=4096
                        -print_final_stats=1 -artifact_prefix=${WORK}/ ${WORK}/new ${CORPUS}
                        ${REGRESS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mmsim_fuzzer exited with ${rc}")
endif()
if(NOT out MATCHES "Done [0-9]+ runs")
  message(FATAL_ERROR "mmsim_fuzzer did not finish its runs")
endif()
