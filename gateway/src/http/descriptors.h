#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "regsuite/common/embedded.h"

namespace regsuite::gateway {

/// The descriptor set compiled into the gateway (build/regsuite.protoset, every proto with its
/// imports); defined by code generated in gateway/CMakeLists.txt.
std::span<const regsuite::common::EmbeddedFile> DescriptorSetFiles();

/// Every regsuite API descriptor, loaded once at start-up from a FileDescriptorSet: the set
/// itself (its MethodOptions carry the google.api.http rules) and a pool built from it.
class ApiDescriptors {
 public:
  /// Parses a serialized google.protobuf.FileDescriptorSet and builds its pool.
  static absl::StatusOr<std::shared_ptr<const ApiDescriptors>> FromSerializedSet(
      absl::string_view serialized);
  /// The set embedded in the binary (DescriptorSetFiles()).
  static absl::StatusOr<std::shared_ptr<const ApiDescriptors>> Embedded();

  const google::protobuf::FileDescriptorSet& set() const { return set_; }
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

  ApiDescriptors(const ApiDescriptors&) = delete;
  ApiDescriptors& operator=(const ApiDescriptors&) = delete;

 private:
  ApiDescriptors() = default;
  google::protobuf::FileDescriptorSet set_;
  google::protobuf::DescriptorPool pool_;
};

}  // namespace regsuite::gateway
