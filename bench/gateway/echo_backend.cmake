# The echo backend (bench/gateway/echo_backend.cc): the benchmark's backend and the gateway e2e
# test's streaming backend. Included from bench/ and tests/unit/gateway/; defined once.
if(NOT TARGET gateway_echo_backend)
  add_executable(gateway_echo_backend ${CMAKE_CURRENT_LIST_DIR}/echo_backend.cc)
  target_compile_options(gateway_echo_backend PRIVATE ${REGSUITE_WARNINGS})
  target_link_libraries(gateway_echo_backend PRIVATE gRPC::grpc++ absl::strings absl::synchronization)
endif()
