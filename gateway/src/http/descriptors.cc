#include "http/descriptors.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace regsuite::gateway {
namespace {

// Collects the pool's build errors so start-up can name the offending file.
class CollectingErrors : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message*, ErrorLocation,
                const std::string& message) override {
    if (!errors_.empty()) errors_ += "; ";
    absl::StrAppend(&errors_, filename, " ", element_name, ": ", message);
  }
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ApiDescriptors>> ApiDescriptors::FromSerializedSet(
    absl::string_view serialized) {
  std::shared_ptr<ApiDescriptors> api(new ApiDescriptors());
  if (!api->set_.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError("descriptor set: not a serialized FileDescriptorSet");
  }
  // The set is in dependency order (protoc --include_imports), so each file's imports are
  // already in the pool when it is added.
  for (const auto& file : api->set_.file()) {
    CollectingErrors errors;
    if (api->pool_.BuildFileCollectingErrors(file, &errors) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor set: cannot build ", file.name(), ": ", errors.errors()));
    }
  }
  return std::shared_ptr<const ApiDescriptors>(std::move(api));
}

absl::StatusOr<std::shared_ptr<const ApiDescriptors>> ApiDescriptors::Embedded() {
  auto files = DescriptorSetFiles();
  if (files.empty()) return absl::InternalError("descriptor set: none embedded");
  const auto& content = files.front().content;
  return FromSerializedSet(absl::string_view(content.data(), content.size()));
}

}  // namespace regsuite::gateway
