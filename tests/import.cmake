# mmsim import from the outside (label `import`) and the recordings of real
# programs (label `recorded`). Included from tests/CMakeLists.txt after
# search_cli.cmake, whose script mode runs each test: MMSIM, ARGS (joined by
# '|'), RC and optionally OUT / ERR (regular expressions stdout / stderr
# must match); with REPLAY set, the import writes REPLAY_TRACE and
# `mmsim replay` of it must give REPLAY_RC and match REPLAY_OUT.
# The runner is search_cli.cmake's (included before this file).
set(MMSIM_IMPORT_CLI ${MMSIM_SEARCH_CLI})
set(IMP ${CMAKE_SOURCE_DIR}/tests/data/import)
set(IMPOUT ${CMAKE_CURRENT_BINARY_DIR}/import-out)
file(MAKE_DIRECTORY ${IMPOUT})

# mmsim_import_cli(NAME RC ARGS... [OUT regex] [ERR regex]
#                  [REPLAY trace REPLAY_RC rc REPLAY_OUT regex])
function(mmsim_import_cli name rc)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "OUT;ERR;REPLAY;REPLAY_RC;REPLAY_OUT" "")
  string(REPLACE ";" "|" args "${A_UNPARSED_ARGUMENTS}")
  set(defs -DMMSIM=$<TARGET_FILE:mmsim> -DRC=${rc} -DARGS=${args})
  foreach(k OUT ERR)
    if(DEFINED A_${k})
      list(APPEND defs "-D${k}=${A_${k}}")
    endif()
  endforeach()
  if(DEFINED A_REPLAY)
    list(APPEND defs -DREPLAY=1 -DREPLAY_TRACE=${A_REPLAY} -DREPLAY_RC=${A_REPLAY_RC}
         "-DREPLAY_OUT=${A_REPLAY_OUT}")
  endif()
  add_test(NAME import.cli.${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${MMSIM_IMPORT_CLI})
  set_tests_properties(import.cli.${name} PROPERTIES LABELS "import" TIMEOUT 30)
endfunction()

# strace: every form the importer takes (hand-made fixture), and the trace replays.
mmsim_import_cli(strace-forms 0 import strace ${IMP}/forms.strace -o ${IMPOUT}/forms.trace
                 REPLAY ${IMPOUT}/forms.trace REPLAY_RC 0 REPLAY_OUT "^PASS ")
mmsim_import_cli(strace-forms-steps 0 import strace ${IMP}/forms.strace
                 OUT "uffd api u1 features=PAGEFAULT_FLAG_WP\\|EVENT_FORK\\|RWP\n.*uffd copy u1 r1 pages=512-513 value=0x1 mode=0\n.*expect result is=EEXIST\n.*fork p2 parent=p1\nmadvise p2.r1 pages=0 advice=DONTNEED\n.*madvise r1 pages=512-1023 advice=COLLAPSE\nexpect result is=EINVAL\nprocess p3\n.*uffd close u1\n$")
mmsim_import_cli(strace-forms-counts 0 import strace ${IMP}/forms.strace
                 OUT "#   1 UFFDIO_WRITEPROTECT with an undecoded argument\n.*#   line 26: UFFDIO_WRITEPROTECT")
mmsim_import_cli(strace-forms-overlay 0 import strace ${IMP}/forms.strace --overlay rwp
                 --interval 4 -o ${IMPOUT}/forms-rwp.trace
                 REPLAY ${IMPOUT}/forms-rwp.trace REPLAY_RC 0 REPLAY_OUT "^PASS ")

# A real capture from this project's machine (tests/data/import/README.md):
# MADV_COLLAPSE (a) plain, (b) one PTE uffd-wp by UFFDIO_COPY_MODE_WP, (c)
# one by UFFDIO_WRITEPROTECT, which strace 6.1 does not decode.
mmsim_import_cli(ftrace-summary-real 0 import ftrace ${IMP}/collapse.ftrace
                 OUT "mm_khugepaged_scan_pmd mm1 0x[0-9a-f]+ succeeded\n.*pte_uffd_wp\n.*pte_uffd_wp\n$")
mmsim_import_cli(collapse-merge 0 import strace ${IMP}/collapse.strace --ftrace ${IMP}/collapse.ftrace
                 OUT "advice=COLLAPSE\nexpect scan is=succeeded\n.*uffd copy u1 r11 pages=5 value=0x1 mode=WP\nmadvise r11 pages=0-511 advice=COLLAPSE\nexpect scan is=pte_uffd_wp\nexpect result is=EINVAL\n.*advice=COLLAPSE\nexpect scan is=pte_uffd_wp\nexpect result is=EINVAL\n")
# (a) and (b) agree with the kernel; (c) cannot: its write-protect was not imported.
mmsim_import_cli(collapse-replay 0 import strace ${IMP}/collapse.strace --ftrace ${IMP}/collapse.ftrace
                 -o ${IMPOUT}/collapse.trace
                 REPLAY ${IMPOUT}/collapse.trace REPLAY_RC 1
                 REPLAY_OUT "expect scan: got succeeded, expected pte_uffd_wp")

# Hand-made ftrace layouts (labelled so in the files).
mmsim_import_cli(ftrace-v5-writable 0 import ftrace ${IMP}/handmade-v5-writable.ftrace
                 OUT "# 6 huge_memory events, 0 other lines\n.*not_suitable_page_count\n.*no_writable_page \\(no trace name\\)\n.*pmd_null \\(no_pte_table\\)\n$")
mmsim_import_cli(ftrace-order-layouts 0 import ftrace ${IMP}/handmade-order-layouts.ftrace
                 OUT "# 8 huge_memory events, 2 other lines\n.*mm_collapse_huge_page mm1 - succeeded\n.*mm_khugepaged_collapse_file mm1 0x3000 page_dirty_or_writeback\n11 18792.181579 21877 .*12 18792.234329 21877 .*pte_uffd_wp\n.*lock_dropped \\(no trace name\\)\n$")

# lackey: a small valgrind log.
mmsim_import_cli(lackey-small 0 import lackey ${IMP}/small.lackey --interval 3
                 OUT "read r1 pages=2\nwrite r1 pages=0-1 value=0x1\n.*madvise r1 pages=0-1 advice=DONTNEED\nread r1 pages=0\nmunmap r1 pages=1\n")
mmsim_import_cli(lackey-overlay 0 import lackey ${IMP}/small.lackey --interval 2 --overlay rwp
                 -o ${IMPOUT}/small-rwp.trace
                 REPLAY ${IMPOUT}/small-rwp.trace REPLAY_RC 0 REPLAY_OUT "^PASS ")

# Malformed input: FILE:LINE: message, exit 2.
mmsim_import_cli(bad-strace-garbage 2 import strace ${IMP}/bad-garbage.strace
                 ERR "bad-garbage.strace:3: not an strace line")
mmsim_import_cli(bad-strace-resumed 2 import strace ${IMP}/bad-resumed.strace
                 ERR "bad-resumed.strace:2: 'munmap' resumed but not unfinished")
mmsim_import_cli(bad-strace-length 2 import strace ${IMP}/bad-mmap-length.strace
                 ERR "bad-mmap-length.strace:1: mmap: bad length 'lots'")
mmsim_import_cli(bad-ftrace-status 2 import ftrace ${IMP}/bad-no-status.ftrace
                 ERR "bad-no-status.ftrace:3: mm_khugepaged_scan_pmd without status=")
mmsim_import_cli(bad-ftrace-header 2 import ftrace ${IMP}/bad-no-timestamp.ftrace
                 ERR "bad-no-timestamp.ftrace:1: huge_memory event without")
mmsim_import_cli(bad-ftrace-merge 2 import strace ${IMP}/forms.strace --ftrace ${IMP}/bad-no-status.ftrace
                 ERR "bad-no-status.ftrace:3: ")
mmsim_import_cli(bad-lackey 2 import lackey ${IMP}/bad-access.lackey
                 ERR "bad-access.lackey:3: bad lackey access line")
mmsim_import_cli(missing-file 2 import strace ${IMP}/no-such.strace ERR "no-such.strace:0: ")
mmsim_import_cli(bad-format 2 import perf ${IMP}/forms.strace ERR "unknown format 'perf'")
mmsim_import_cli(bad-overlay 2 import strace ${IMP}/forms.strace --overlay wp ERR "unknown --overlay")
mmsim_import_cli(strace-with-lackey 2 import strace ${IMP}/forms.strace --lackey ${IMP}/small.lackey
                 ERR "different address spaces")
mmsim_import_cli(bad-interval 2 import strace ${IMP}/forms.strace --interval 0)

# The recordings of real programs (traces/recorded/, tools/record-all): the
# verdict of each at every patch level, as in verdicts.expected (the same
# check as traces/found; tests/traces.cmake also replays each one at v6).
add_test(NAME trace.recorded.verdicts
         COMMAND mmsim verdicts --check ${CMAKE_SOURCE_DIR}/traces/recorded/verdicts.expected
                 ${CMAKE_SOURCE_DIR}/traces/recorded)
set_tests_properties(trace.recorded.verdicts PROPERTIES LABELS "trace;recorded" TIMEOUT 120)
