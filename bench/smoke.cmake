# The benchmark binary at its smallest size (ctest label bench): each
# subcommand must exit 0 and print a well-formed Markdown row. The kernel
# half of `rwp` may skip (no userfaultfd here); no timing is asserted.
set(num "[0-9]+\\.[0-9]+")
function(bench_expect what regex)
  execute_process(COMMAND ${BENCH} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mmsim_bench ${ARGN}: exit ${rc}\n${out}${err}")
  endif()
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "mmsim_bench ${ARGN}: ${what} row does not match '${regex}':\n${out}")
  endif()
endfunction()

bench_expect(rwp "\\| 2\\^4 \\| (${num}|skipped \\([^)]+\\)) \\| ${num} \\| (${num}x|-) \\| ${num} \\| (${num}x|-) \\|\n"
             rwp --min-log2 4 --max-log2 4 --reps 1)
bench_expect(guest "\\| 1 GiB memfd \\| touched sets \\| on \\| ${num} \\| ${num} \\| ${num} \\| [0-9]+ \\|\n"
             guest --size 1 --cycles 1)
bench_expect(mem "\\| anon private \\| 2\\^8 \\| on \\| -?${num} \\|\n" mem --log2 8)
# Bad input: exit 2 with a message, never a crash.
execute_process(COMMAND ${BENCH} rwp --max-log2 99 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "mmsim_bench rwp:")
  message(FATAL_ERROR "mmsim_bench rwp --max-log2 99: expected exit 2 and a message, got ${rc}: ${err}")
endif()
