// The serve command's options and entry point.
#pragma once

#include <filesystem>
#include <string>

namespace tuilerie {

struct serve_options {
  std::filesystem::path config_file;
  std::string listen;               // overrides server.listen when set
  std::filesystem::path cache_path;  // overrides cache.path when set
  std::string log_level = "info";
};

// Serves until SIGINT or SIGTERM and returns the exit status. Throws
// config_error, style_error or cache_error when start-up fails.
int run_serve(const serve_options& options);

}  // namespace tuilerie
