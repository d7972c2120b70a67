# regsuite_service(<name> BINARY <binary> PROTO <proto target>)
# Embeds services/<name>/migrations/*.sql as regsuite::<name>::MigrationFiles() in
# regsuite_<name>_migrations (also linked by regctl) and builds the binary from main.cpp.
function(regsuite_service name)
  cmake_parse_arguments(ARG "" "BINARY;PROTO" "SOURCES" ${ARGN})
  file(GLOB migrations CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/migrations/*.sql)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/generated/${name}_migrations.cc)
  regsuite_embed_files(${gen} FUNCTION regsuite::${name}::MigrationFiles FILES ${migrations})
  add_library(regsuite_${name}_migrations STATIC ${gen})
  target_link_libraries(regsuite_${name}_migrations PUBLIC regsuite_common_core)
  add_executable(${ARG_BINARY} ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp ${ARG_SOURCES})
  target_compile_options(${ARG_BINARY} PRIVATE ${REGSUITE_WARNINGS})
  target_link_libraries(${ARG_BINARY} PRIVATE regsuite_common regsuite_${name}_migrations ${ARG_PROTO})
endfunction()
