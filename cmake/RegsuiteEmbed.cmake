# regsuite_embed_files(<output.cc> FUNCTION <qualified name> FILES <files...>)
# Generates a source file defining `std::span<const EmbeddedFile> <function>()` whose
# entries hold the files' names and bytes, so binaries carry their migrations and
# reference data and run from any directory or container.
set(REGSUITE_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)

function(regsuite_embed_files output)
  cmake_parse_arguments(ARG "" "FUNCTION" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DFUNCTION=${ARG_FUNCTION}
            "-DFILES=${ARG_FILES}" -P ${REGSUITE_EMBED_SCRIPT}
    DEPENDS ${ARG_FILES} ${REGSUITE_EMBED_SCRIPT}
    COMMENT "embedding ${ARG_FUNCTION}"
    VERBATIM)
endfunction()
