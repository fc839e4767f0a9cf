// A progress bar for long commands on a terminal: done/total, rate and time left.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tuilerie {

// The figures that a progress bar shows at one moment.
struct progress_state {
  std::uint64_t done = 0;   // units finished (rendered, skipped or failed)
  std::uint64_t total = 0;  // units planned
  std::uint64_t tiles = 0;  // tiles rendered, for the rate
};

// Draws one line on a terminal and redraws it in place, at most five times
// a second so that a fast loop does not spend its time writing to the tty.
// Draws nothing when the stream is not a terminal.
class progress_bar {
 public:
  // unit names what done and total count, such as "metatiles".
  progress_bar(std::FILE* stream, std::string unit);

  // Whether the stream is a terminal, where the bar is drawn.
  bool enabled() const { return enabled_; }

  // Redraws the line if 200 ms have passed since the last redraw.
  void update(const progress_state& state);

  // Redraws the line with the final state and moves to the next line.
  void finish(const progress_state& state);

 private:
  void draw(const progress_state& state);

  std::FILE* stream_;
  std::string unit_;
  bool enabled_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_drawn_;
};

// Formats a duration in seconds as H:MM:SS, or M:SS under an hour.
std::string format_duration(double seconds);

}  // namespace tuilerie
