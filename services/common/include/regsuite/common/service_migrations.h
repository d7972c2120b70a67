#pragma once

#include <span>

#include "regsuite/common/embedded.h"

// Each service's own migration files, embedded by cmake/RegsuiteService.cmake.
namespace regsuite::credit { std::span<const common::EmbeddedFile> MigrationFiles(); }
namespace regsuite::licensing { std::span<const common::EmbeddedFile> MigrationFiles(); }
namespace regsuite::inspection { std::span<const common::EmbeddedFile> MigrationFiles(); }
namespace regsuite::disclosure { std::span<const common::EmbeddedFile> MigrationFiles(); }
namespace regsuite::exchange { std::span<const common::EmbeddedFile> MigrationFiles(); }
namespace regsuite::gateway { std::span<const common::EmbeddedFile> MigrationFiles(); }
