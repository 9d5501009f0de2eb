# cmake -DSPV=in.spv -DOUT=out.c -DSYMBOL=name -P EmbedSpirv.cmake
# Writes the SPIR-V words as a C array (SPIR-V is a stream of little-endian 32-bit words).
file(READ "${SPV}" hex HEX)
string(LENGTH "${hex}" nhex)
math(EXPR nbytes "${nhex} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])"
       "0x\\4\\3\\2\\1u," words "${hex}")
string(REGEX REPLACE "(([^,]*,){8})" "\\1\n    " words "${words}")
file(WRITE "${OUT}.tmp" "/* Generated from ${SPV} */\n#include <stddef.h>\n#include <stdint.h>\n"
  "const uint32_t ${SYMBOL}[] = {\n    ${words}\n};\nconst size_t ${SYMBOL}_size = ${nbytes};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
