// Drawing the progress bar with ANSI line control.
#include "server/progress.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace tuilerie {

namespace {

constexpr auto redraw_interval = std::chrono::milliseconds(200);

constexpr int bar_width = 30;  // characters between the brackets

// Returns to the start of the line and erases it (ANSI CSI "K").
constexpr const char* rewrite_line = "\r\x1b[K";

std::string bar(std::uint64_t done, std::uint64_t total) {
  const double share = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const int filled = static_cast<int>(share * bar_width);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(bar_width - filled), '.') + "]";
}

}  // namespace

progress_bar::progress_bar(std::FILE* stream, std::string unit)
    : stream_(stream),
      unit_(std::move(unit)),
      enabled_(isatty(fileno(stream)) == 1),
      started_(std::chrono::steady_clock::now()),
      last_drawn_(started_ - redraw_interval) {}

void progress_bar::update(const progress_state& state) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_drawn_ < redraw_interval) return;
  last_drawn_ = now;
  draw(state);
}

void progress_bar::finish(const progress_state& state) {
  if (!enabled_) return;
  draw(state);
  std::fputc('\n', stream_);
  std::fflush(stream_);
}

// The time left is estimated from the average time per unit so far, which
// runs high while skipped units (already cached) come first and low after.
void progress_bar::draw(const progress_state& state) {
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
  const double seconds = std::max(elapsed.count(), 1e-3);
  const double tiles_per_second = static_cast<double>(state.tiles) / seconds;
  std::string left = "--:--";
  if (state.done > 0 && state.done <= state.total) {
    left = format_duration(seconds / static_cast<double>(state.done) * static_cast<double>(state.total - state.done));
  }
  const std::string line = fmt::format("{}{} {}/{} {}  {:.1f} tiles/s  {} left", rewrite_line,
                                       bar(state.done, state.total), state.done, state.total, unit_,
                                       tiles_per_second, left);
  std::fputs(line.c_str(), stream_);
  std::fflush(stream_);
}

std::string format_duration(double seconds) {
  const auto whole = static_cast<std::uint64_t>(std::llround(std::max(seconds, 0.0)));
  const std::uint64_t hours = whole / 3600;
  const std::uint64_t minutes = whole / 60 % 60;
  const std::uint64_t rest = whole % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, rest);
  return fmt::format("{}:{:02}", minutes, rest);
}

}  // namespace tuilerie
