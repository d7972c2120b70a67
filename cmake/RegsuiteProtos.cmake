# regsuite_proto_library(<target> PROTO <path under protos/> [DEPS <targets>] [GRPC])
# Generates C++ (and gRPC stubs when GRPC is given) into the build tree and wraps
# them in one static library per proto, as gRPC's own examples do.
set(REGSUITE_PROTO_ROOT ${CMAKE_SOURCE_DIR}/protos)
set(REGSUITE_PROTO_OUT ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${REGSUITE_PROTO_OUT})
get_target_property(REGSUITE_GRPC_CPP_PLUGIN gRPC::grpc_cpp_plugin LOCATION)

function(regsuite_proto_library target)
  cmake_parse_arguments(ARG "GRPC" "PROTO" "DEPS" ${ARGN})
  string(REGEX REPLACE "\\.proto$" "" stem ${ARG_PROTO})
  set(srcs ${REGSUITE_PROTO_OUT}/${stem}.pb.cc)
  set(hdrs ${REGSUITE_PROTO_OUT}/${stem}.pb.h)
  set(plugin_args)
  if(ARG_GRPC)
    list(APPEND srcs ${REGSUITE_PROTO_OUT}/${stem}.grpc.pb.cc)
    list(APPEND hdrs ${REGSUITE_PROTO_OUT}/${stem}.grpc.pb.h)
    set(plugin_args --grpc_out=${REGSUITE_PROTO_OUT}
                    --plugin=protoc-gen-grpc=${REGSUITE_GRPC_CPP_PLUGIN})
  endif()
  add_custom_command(
    OUTPUT ${srcs} ${hdrs}
    COMMAND protobuf::protoc
      -I ${REGSUITE_PROTO_ROOT} -I ${Protobuf_INCLUDE_DIRS}
      --cpp_out=${REGSUITE_PROTO_OUT} ${plugin_args}
      ${REGSUITE_PROTO_ROOT}/${ARG_PROTO}
    DEPENDS ${REGSUITE_PROTO_ROOT}/${ARG_PROTO} protobuf::protoc
    COMMENT "protoc ${ARG_PROTO}"
    VERBATIM)
  add_library(${target} STATIC ${srcs} ${hdrs})
  target_include_directories(${target} PUBLIC ${REGSUITE_PROTO_OUT})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
endfunction()
