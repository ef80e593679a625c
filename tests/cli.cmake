# The mmsim front end from the outside (label `cli`): the commands and error
# exits no other CLI test reaches (help, format, list-patches, a whole explore
# run, option errors). Runs tests/search_cli.cmake as the script: MMSIM,
# ARGS joined by '|', RC, optional OUT and ERR regular expressions.
set(CLI_TRACE ${CMAKE_SOURCE_DIR}/traces/selftests/rwp-gup-anon.trace)
set(CLI_BAD ${CMAKE_SOURCE_DIR}/traces/bad/bad-flag.trace)
set(CLI_P08 ${CMAKE_SOURCE_DIR}/traces/patch08)

# Tests cli.NAME, label cli (tests/search_cli.cmake's mmsim_search_cli).
set(MMSIM_CLI_PREFIX cli)
set(MMSIM_CLI_LABEL cli)

# Commands and usage.
mmsim_search_cli(no-command 2 ERR "^usage: mmsim COMMAND")
mmsim_search_cli(help 0 --help OUT "^usage: mmsim COMMAND.*  list-patches\n")
mmsim_search_cli(unknown-command 2 frobnicate ERR "^mmsim: unknown command 'frobnicate'\nusage:")
mmsim_search_cli(list-patches 0 list-patches
          OUT "  v6    08a 08b 08c 08d 08e  - .*hunks:\n  08a +try_collapse_pte_mapped_thp .*kernels \\(replay --kernel\\):\n  rwp ")

# format: the canonical form (comments dropped), and bad input per file.
mmsim_search_cli(format 0 format ${CLI_TRACE}
          OUT "^process P\nmmap A proc=P len=64K prot=rw map=private\nmadvise A advice=NOHUGEPAGE\n")
mmsim_search_cli(format-none 2 format ERR "mmsim format: no trace given")
mmsim_search_cli(format-bad 2 format ${CLI_BAD} ${CLI_TRACE} ERR "bad-flag.trace:[0-9]+: "
          OUT "^process P\n")

# replay and verdicts option errors.
mmsim_search_cli(replay-none 2 replay ERR "mmsim replay: no trace given")
mmsim_search_cli(replay-bad-option 2 replay --frobnicate ${CLI_TRACE} ERR "mmsim replay: Unknown option")
mmsim_search_cli(replay-bad-level 2 replay --patch v7 ${CLI_TRACE} ERR "unknown patch level 'v7'")
mmsim_search_cli(replay-bad-hunk 2 replay --hunk 08z=on ${CLI_TRACE} ERR "bad --hunk '08z=on'")
mmsim_search_cli(replay-bad-kernel 2 replay --kernel 2.4 ${CLI_TRACE} ERR "unknown kernel '2.4'")
mmsim_search_cli(verdicts-none 2 verdicts ERR "mmsim verdicts: give one DIR")
mmsim_search_cli(verdicts-no-dir 2 verdicts ${CMAKE_SOURCE_DIR}/no-such-dir ERR "mmsim verdicts: .*no-such-dir")
mmsim_search_cli(verdicts-no-check-file 2 verdicts --check ${CMAKE_SOURCE_DIR}/no-such.expected ${CLI_P08}
          ERR "mmsim verdicts: .*no-such.expected")
# Compared with another directory's table, the patch-08 table differs: exit 1.
mmsim_search_cli(verdicts-differ 1 verdicts --check ${CMAKE_SOURCE_DIR}/traces/found/verdicts.expected
          ${CLI_P08} OUT "verdict table differs from .*found/verdicts.expected; expected:\n")

# explore: a whole (depth 1) run and its summary line, and option errors.
mmsim_search_cli(explore-depth-1 0 explore --depth 1 --config small --quiet
          OUT "explore --depth 1 --patch v6: 16 states \\(1 15 per depth\\).* 0 invariants violated\n")
mmsim_search_cli(explore-shard 0 explore --depth 1 --shard 1/2 --quiet
          OUT "explore --depth 1 --patch v6 --shard 1/2: ")
mmsim_search_cli(explore-extra-argument 2 explore --depth 1 extra ERR "mmsim explore: unexpected argument")
mmsim_search_cli(explore-bad-level 2 explore --depth 1 --patch v7 ERR "unknown patch level 'v7'")

# import option errors.
set(CLI_IMP ${CMAKE_SOURCE_DIR}/tests/data/import)
mmsim_search_cli(import-bad-option 2 import --frobnicate strace x ERR "mmsim import: Unknown option")
mmsim_search_cli(import-no-file 2 import strace ERR "mmsim import: give a format")
mmsim_search_cli(import-bad-thp 2 import strace ${CLI_IMP}/forms.strace --thp sometimes
          ERR "--thp takes always, madvise or never")
mmsim_search_cli(import-ftrace-with-lackey 2 import lackey ${CLI_IMP}/small.lackey --ftrace x
          ERR "--ftrace goes with an strace capture")
mmsim_search_cli(import-unwritable 2 import strace ${CLI_IMP}/forms.strace
          -o ${CMAKE_SOURCE_DIR}/no-such-dir/out.trace ERR "mmsim import: .*out.trace")
mmsim_search_cli(import-ftrace-missing 2 import ftrace ${CLI_IMP}/no-such.ftrace
          ERR "no-such.ftrace:0: ")
unset(MMSIM_CLI_PREFIX)
unset(MMSIM_CLI_LABEL)
