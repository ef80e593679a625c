# sim/report/embed.cmake - turn page.css and page.js into C arrays for html.c.
# Run as a script (cmake -DDIR=sim/report -DOUT=report_assets.h -P embed.cmake)
# by the build whenever either file changes: the page is written from one
# binary, with no file to find at run time.
function(embed name file)
  file(READ ${file} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
  string(APPEND text "static const char ${name}[] = {\n${bytes}0x00 };\n")
  set(text "${text}" PARENT_SCOPE)
endfunction()

set(text "/* Generated from sim/report/page.css and page.js by embed.cmake. */\n")
embed(report_page_css ${DIR}/page.css)
embed(report_page_js ${DIR}/page.js)
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
