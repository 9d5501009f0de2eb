# Compiles every shaders/*.comp and each of its feature variants to SPIR-V with glslc, and embeds
# the SPIR-V in a static library with an index (runtime/spirv_index.h describes it).
#
# A shader declares its variants in comment lines:
#   //@variant NAME [needs:FEATURE[,FEATURE]] [noopt] [-DDEFINE[=VALUE] ...]
# FEATURE is one of: fp16 int8 coopmat bf16 (device features the variant requires, and for
# coopmat/bf16 also glslc features probed below). A shader without //@variant lines has one variant,
# "base". noopt compiles without -O (spirv-opt has had bugs with cooperative matrices).

set(_VKFT_SHADER_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(_vkft_probe_glslc feature source out_var)
  set(dir "${CMAKE_BINARY_DIR}/glslc_probe")
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${dir}/${feature}.comp" "${source}")
  execute_process(COMMAND "${VKFT_GLSLC}" --target-env=vulkan1.3 -fshader-stage=compute
                          -o "${dir}/${feature}.spv" "${dir}/${feature}.comp"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(${out_var} ON PARENT_SCOPE)
  else()
    set(${out_var} OFF PARENT_SCOPE)
  endif()
endfunction()

function(vkft_add_shaders target shader_dir)
  _vkft_probe_glslc(coopmat [=[
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
layout(binding = 0) buffer B { float16_t d[]; };
void main() {
  coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
  coopMatLoad(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatStore(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
]=] HAVE_COOPMAT)
  _vkft_probe_glslc(bf16 [=[
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_bfloat16 : require
layout(local_size_x = 32) in;
layout(binding = 0) buffer B { bfloat16_t d[]; };
void main() {
  coopmat<bfloat16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
  coopMatLoad(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
  coopMatStore(a, d, 0, 16, gl_CooperativeMatrixLayoutRowMajor);
}
]=] HAVE_BF16)
  execute_process(COMMAND "${VKFT_GLSLC}" --version OUTPUT_VARIABLE ver ERROR_QUIET)
  string(REGEX MATCH "^[^\n]*" ver "${ver}")
  message(STATUS "glslc: ${VKFT_GLSLC} (${ver}); cooperative matrix: ${HAVE_COOPMAT}; bf16: ${HAVE_BF16}")

  file(GLOB shaders CONFIGURE_DEPENDS "${shader_dir}/*.comp")
  file(GLOB common CONFIGURE_DEPENDS "${shader_dir}/common/*.glsl")
  set(out_dir "${CMAKE_BINARY_DIR}/spirv")
  file(MAKE_DIRECTORY "${out_dir}")
  set(sources "")
  set(index_decl "")
  set(index_rows "")
  set(skipped "")
  set(count 0)
  foreach(shader ${shaders})
    get_filename_component(name "${shader}" NAME_WE)
    file(STRINGS "${shader}" lines REGEX "^//@variant ")
    if(NOT lines)
      set(lines "//@variant base")
    endif()
    foreach(line ${lines})
      string(REGEX REPLACE "^//@variant +" "" line "${line}")
      separate_arguments(words UNIX_COMMAND "${line}")
      list(POP_FRONT words variant)
      set(defines "")
      set(needs "0")
      set(opt "-O")
      set(buildable ON)
      foreach(w ${words})
        if(w MATCHES "^needs:(.*)$")
          string(REPLACE "," ";" feats "${CMAKE_MATCH_1}")
          foreach(f ${feats})
            string(TOUPPER "${f}" F)
            set(needs "${needs}|VKFT_NEED_${F}")
            if(f STREQUAL "coopmat" AND NOT HAVE_COOPMAT)
              set(buildable OFF)
            elseif(f STREQUAL "bf16" AND NOT HAVE_BF16)
              set(buildable OFF)
            endif()
          endforeach()
        elseif(w STREQUAL "noopt")
          set(opt "")
        else()
          list(APPEND defines "${w}")
        endif()
      endforeach()
      if(NOT buildable)
        list(APPEND skipped "${name}/${variant}")
        continue()
      endif()
      set(id "${name}_${variant}")
      set(spv "${out_dir}/${id}.spv")
      set(csrc "${out_dir}/${id}.c")
      add_custom_command(
        OUTPUT "${spv}"
        COMMAND "${VKFT_GLSLC}" --target-env=vulkan1.3 -fshader-stage=compute ${opt}
                -I "${shader_dir}/common" ${defines} -o "${spv}" "${shader}"
        DEPENDS "${shader}" ${common}
        COMMENT "glslc ${name}.comp [${variant}]" VERBATIM)
      add_custom_command(
        OUTPUT "${csrc}"
        COMMAND "${CMAKE_COMMAND}" -DSPV=${spv} -DOUT=${csrc} -DSYMBOL=vkft_spv_${id}
                -P "${_VKFT_SHADER_CMAKE_DIR}/EmbedSpirv.cmake"
        DEPENDS "${spv}" "${_VKFT_SHADER_CMAKE_DIR}/EmbedSpirv.cmake" VERBATIM)
      list(APPEND sources "${csrc}")
      string(APPEND index_decl "extern const uint32_t vkft_spv_${id}[];\nextern const size_t vkft_spv_${id}_size;\n")
      string(APPEND index_rows "    {\"${name}\", \"${variant}\", ${needs}, vkft_spv_${id}, &vkft_spv_${id}_size},\n")
      math(EXPR count "${count} + 1")
    endforeach()
  endforeach()
  if(skipped)
    list(JOIN skipped ", " skipped_text)
    message(STATUS "shader variants NOT built (this glslc lacks the feature): ${skipped_text}")
  endif()
  message(STATUS "shader variants built: ${count}")

  set(index "${out_dir}/spirv_index.c")
  file(CONFIGURE OUTPUT "${index}.in" CONTENT [=[
/* Generated by cmake/Shaders.cmake: every embedded SPIR-V module. */
#include "runtime/spirv_index.h"
@index_decl@
const vkft_spirv_blob vkft_spirv_blobs[] = {
@index_rows@    {0, 0, 0, 0, 0},
};
const size_t vkft_spirv_blob_count = @count@;
]=] @ONLY)
  file(COPY_FILE "${index}.in" "${index}" ONLY_IF_DIFFERENT)
  add_library(${target} STATIC ${sources} "${index}")
  target_include_directories(${target} PRIVATE "${CMAKE_SOURCE_DIR}")
endfunction()
