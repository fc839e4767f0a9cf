// The seed command: renders an area's metatiles through the server's tile service, skipping fresh ones, so
// that an interrupted seed resumes where it stopped.
#include "server/seed_command.hpp"

#include "render/mapnik_setup.hpp"
#include "render/render_pool.hpp"
#include "server/metrics.hpp"
#include "server/postgis.hpp"
#include "server/progress.hpp"
#include "server/tile_service.hpp"
#include "server/tileset_versions.hpp"
#include "tilecache/mercator_copies.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tuilerie {

namespace {

// How often a waiting seed wakes to redraw its progress bar and notice a stop
// signal, in milliseconds.
constexpr auto wake_interval = std::chrono::milliseconds(100);

// The first SIGINT or SIGTERM received during a seed, 0 until then. Any
// thread may run the handler, so this is a lock-free atomic, which a signal
// handler may store to.
std::atomic<int> received_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

void record_stop_signal(int signal) { received_stop_signal.store(signal); }

// Installs record_stop_signal for SIGINT and SIGTERM, and restores the
// previous handlers when destroyed. SA_RESETHAND restores the default action
// as the first signal arrives, so a second one ends the process at once,
// which leaves the cache consistent because LMDB commits are atomic.
class stop_signal_handlers {
 public:
  stop_signal_handlers() {
    received_stop_signal.store(0);
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &action, &previous_interrupt_);
    sigaction(SIGTERM, &action, &previous_terminate_);
  }
  ~stop_signal_handlers() {
    sigaction(SIGINT, &previous_interrupt_, nullptr);
    sigaction(SIGTERM, &previous_terminate_, nullptr);
  }
  stop_signal_handlers(const stop_signal_handlers&) = delete;
  stop_signal_handlers& operator=(const stop_signal_handlers&) = delete;

 private:
  struct sigaction previous_interrupt_ {};
  struct sigaction previous_terminate_ {};
};

std::string signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal);
}

std::optional<int> parse_whole_number(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string tileset_names(const config& settings) {
  std::string names;
  for (const auto& [name, tileset] : settings.tilesets) names += (names.empty() ? "" : ", ") + name;
  return names;
}

std::string format_names(const tileset_settings& tileset) {
  std::string names;
  for (const auto format : tileset.formats) names += (names.empty() ? "" : ", ") + std::string(extension_of(format));
  return names;
}

// The work of one seed: the tileset, format and scale, and the area and
// zooms, already clamped to the tileset's zoom range.
struct seed_plan {
  const tileset_settings* tileset = nullptr;
  tile_format format = tile_format::png;
  std::uint8_t scale = 1;
  bbox area;  // degrees
  zoom_range zooms;
  // Tiles per side of a render unit: the metatile size for raster formats,
  // as tile_service renders them, and 1 for MVT, rendered tile by tile.
  std::uint32_t unit_size = 1;

  std::string unit_name() const { return is_raster(format) ? "metatiles" : "tiles"; }

  // Names the seed in messages, as "communes png@2x z0-12".
  std::string describe() const {
    return fmt::format("{} {}{} z{}-{}", tileset->name, extension_of(format), scale == 2 ? "@2x" : "",
                       zooms.minzoom, zooms.maxzoom);
  }
};

zoom_range clamp_zooms(const tileset_settings& tileset, const zoom_range& requested, const std::string& text) {
  const zoom_range clamped{std::max(requested.minzoom, tileset.minzoom), std::min(requested.maxzoom, tileset.maxzoom)};
  if (clamped.minzoom > clamped.maxzoom) {
    throw option_error(fmt::format("invalid --zoom '{}': tileset {} serves zooms {} to {} only", text, tileset.name,
                                   tileset.minzoom, tileset.maxzoom));
  }
  return clamped;
}

seed_plan make_seed_plan(const config& settings, const seed_options& options) {
  seed_plan plan;
  plan.tileset = &tileset_option(settings, options.tileset);
  plan.format = format_option(*plan.tileset, options.format, options.scale);
  plan.scale = static_cast<std::uint8_t>(options.scale);
  plan.area = options.bbox.empty() ? plan.tileset->bounds : parse_bbox_option(options.bbox);
  plan.zooms = clamp_zooms(*plan.tileset, parse_zoom_option(options.zoom), options.zoom);
  plan.unit_size = is_raster(plan.format) ? plan.tileset->metatile : 1;
  return plan;
}

// The render units of a plan that intersect its area, zoom by zoom and row by
// row, produced one at a time so that a seed of millions of units takes no
// memory for them.
class unit_sequence {
 public:
  explicit unit_sequence(const seed_plan& plan) {
    for (int z = plan.zooms.minzoom; z <= plan.zooms.maxzoom; ++z) {
      const tile_range tiles = tiles_covering(plan.area, z);
      const std::uint32_t size = std::min(plan.unit_size, tiles_per_side(z));
      const tile_range units{z, tiles.min_x / size, tiles.min_y / size, tiles.max_x / size, tiles.max_y / size};
      spans_.push_back({units, size});
      total_ += units.count();
    }
    if (!spans_.empty()) start_span();
  }

  std::uint64_t total() const { return total_; }

  // Returns the next unit, or nullopt after the last.
  std::optional<metatile> next() {
    if (span_ == spans_.size()) return std::nullopt;
    const unit_span& span = spans_[span_];
    const metatile unit{span.units.z, column_ * span.size, row_ * span.size, span.size};
    advance();
    return unit;
  }

 private:
  struct unit_span {
    tile_range units;    // in units, not tiles
    std::uint32_t size;  // tiles per side of each unit at this zoom
  };

  void start_span() {
    column_ = spans_[span_].units.min_x;
    row_ = spans_[span_].units.min_y;
  }

  void advance() {
    const tile_range& units = spans_[span_].units;
    if (column_ < units.max_x) {
      ++column_;
    } else if (row_ < units.max_y) {
      column_ = units.min_x;
      ++row_;
    } else if (++span_ < spans_.size()) {
      start_span();
    }
  }

  std::vector<unit_span> spans_;
  std::size_t span_ = 0;
  std::uint32_t column_ = 0;
  std::uint32_t row_ = 0;
  std::uint64_t total_ = 0;
};

// Counts of a seed. Tiles are counted by render unit: a rendered metatile
// adds all its tiles, including those outside the area.
struct seed_counts {
  std::uint64_t units_done = 0;
  std::uint64_t tiles_rendered = 0;
  std::uint64_t tiles_skipped = 0;  // fresh in the cache already
  std::uint64_t tiles_failed = 0;
};

// Walks the units and requests their tiles from the tile service one by one
// until one is not cached fresh: that request renders and stores the whole
// unit. So
// a unit counts as skipped only when every one of its tiles is fresh by the
// service's own rule, which matters after a purge by bbox deleted part of a
// metatile. At most max_in_flight units are rendering at once.
class seeder {
 public:
  seeder(const seed_plan& plan, tile_service& service, std::size_t max_in_flight)
      : plan_(plan), service_(service), max_in_flight_(max_in_flight) {}

  // Seeds every unit, or stops submitting at a stop signal. Returns once no
  // request is in flight.
  seed_counts run(unit_sequence& units, progress_bar& progress) {
    submitting_thread_ = std::this_thread::get_id();
    total_ = units.total();
    try {
      while (wait_for_room(progress)) {
        const auto unit = units.next();
        if (!unit) break;
        seed_unit(*unit);
        progress.update(state());
      }
    } catch (...) {
      wait_for_all(progress);  // the callbacks use this object
      throw;
    }
    wait_for_all(progress);
    const std::lock_guard lock(mutex_);
    return counts_;
  }

  progress_state state() {
    const std::lock_guard lock(mutex_);
    return {counts_.units_done, total_, counts_.tiles_rendered};
  }

 private:
  static std::uint64_t tiles_in(const metatile& unit) { return std::uint64_t{unit.size} * unit.size; }

  void seed_unit(const metatile& unit) {
    {
      const std::lock_guard lock(mutex_);
      ++in_flight_;
    }
    for (const tile_id& tile : unit.tiles()) {
      if (!is_cached_fresh(unit, tile)) return;  // the callback counts the unit
    }
    {
      const std::lock_guard lock(mutex_);
      ++counts_.units_done;
      counts_.tiles_skipped += tiles_in(unit);
      --in_flight_;
    }
    request_finished_.notify_all();
  }

  // Requests the tile and returns whether it was cached fresh. tile_service
  // returns a fresh cached tile at once, on this thread. Every other outcome
  // goes to on_unit_done: a render from a render thread, or a full render
  // queue from this thread.
  bool is_cached_fresh(const metatile& unit, const tile_id& tile) {
    cache_hit_ = false;
    const tile_request request{plan_.tileset->name, tile, plan_.format, plan_.scale};
    try {
      service_.get_tile(request, [this, unit](tile_result result) {
        const bool on_submitting_thread = std::this_thread::get_id() == submitting_thread_;
        if (on_submitting_thread && result.outcome == tile_result::status::ok) {
          cache_hit_ = true;
          return;
        }
        on_unit_done(unit, result, on_submitting_thread);
      });
    } catch (...) {
      // The request was not taken, so no callback will count the unit.
      const std::lock_guard lock(mutex_);
      --in_flight_;
      throw;
    }
    return cache_hit_;
  }

  void on_unit_done(const metatile& unit, const tile_result& result, bool on_submitting_thread) {
    {
      const std::lock_guard lock(mutex_);
      ++counts_.units_done;
      if (result.outcome == tile_result::status::ok) {
        counts_.tiles_rendered += tiles_in(unit);
      } else {
        counts_.tiles_failed += tiles_in(unit);
      }
      --in_flight_;
    }
    if (on_submitting_thread) {
      spdlog::error("seed {}: metatile {}/{}/{} was not rendered: {}", plan_.describe(), unit.z, unit.x, unit.y,
                    result.error);
    }
    request_finished_.notify_all();
  }

  // Waits until another unit may start. Returns false at a stop signal.
  bool wait_for_room(progress_bar& progress) {
    std::unique_lock lock(mutex_);
    while (in_flight_ >= max_in_flight_ && received_stop_signal.load() == 0) {
      request_finished_.wait_for(lock, wake_interval);
      lock.unlock();
      progress.update(state());
      lock.lock();
    }
    return received_stop_signal.load() == 0;
  }

  void wait_for_all(progress_bar& progress) {
    std::unique_lock lock(mutex_);
    while (in_flight_ > 0) {
      request_finished_.wait_for(lock, wake_interval);
      lock.unlock();
      progress.update(state());
      lock.lock();
    }
  }

  const seed_plan& plan_;
  tile_service& service_;
  const std::size_t max_in_flight_;
  std::thread::id submitting_thread_;
  std::uint64_t total_ = 0;
  bool cache_hit_ = false;  // set by a callback on the submitting thread only

  std::mutex mutex_;  // guards counts_ and in_flight_
  std::condition_variable request_finished_;
  seed_counts counts_;
  std::size_t in_flight_ = 0;
};

// Stops the render pool when destroyed. Declared after the tile service, it
// runs before the service is destroyed, also when a seed throws, because the
// pool's jobs use the service.
class render_pool_stopper {
 public:
  explicit render_pool_stopper(render_pool& pool) : pool_(pool) {}
  ~render_pool_stopper() { pool_.stop(); }
  render_pool_stopper(const render_pool_stopper&) = delete;
  render_pool_stopper& operator=(const render_pool_stopper&) = delete;

 private:
  render_pool& pool_;
};

// Prints the one-line summary on standard output.
void print_summary(const seed_plan& plan, const seed_counts& counts, std::uint64_t total, double seconds,
                   int stop_signal) {
  const double tiles_per_second = static_cast<double>(counts.tiles_rendered) / std::max(seconds, 1e-3);
  const std::string tiles = fmt::format("{} tiles rendered, {} skipped, {} failed in {:.1f} s ({:.1f} tiles/s)",
                                        counts.tiles_rendered, counts.tiles_skipped, counts.tiles_failed, seconds,
                                        tiles_per_second);
  if (stop_signal != 0) {
    fmt::print("seed {}: interrupted by {} after {} of {} {}; {}; run the same command to resume\n",
               plan.describe(), signal_name(stop_signal), counts.units_done, total, plan.unit_name(), tiles);
  } else {
    fmt::print("seed {}: {} of {} {} done; {}\n", plan.describe(), counts.units_done, total, plan.unit_name(),
               tiles);
  }
  std::fflush(stdout);
}

// Warns about renders that the cache did not keep. Returns whether any
// render result was lost.
bool warn_of_cache_losses(const metrics& counters, tile_store& store, const cache_settings& cache) {
  const auto evictions = store.stats().evictions;
  if (evictions > 0) {
    spdlog::warn("the cache reached cache.max_size_mb ({} MiB) and evicted {} entries, maybe tiles of this seed; "
                 "raise it to keep the whole area cached",
                 cache.max_size_mb, evictions);
  }
  const auto write_failures = counters.cache_write_failures.load();
  if (write_failures > 0) {
    spdlog::error("{} rendered {} could not be stored in the cache (see the errors above); they will be rendered "
                  "again when requested",
                  write_failures, write_failures == 1 ? "unit" : "units");
  }
  return write_failures > 0;
}

}  // namespace

zoom_range parse_zoom_option(const std::string& text) {
  const auto dash = text.find('-');
  const auto minzoom = parse_whole_number(std::string_view(text).substr(0, dash));
  const auto maxzoom = dash == std::string::npos ? minzoom : parse_whole_number(std::string_view(text).substr(dash + 1));
  if (!minzoom || !maxzoom || *minzoom < 0 || *maxzoom > max_zoom || *minzoom > *maxzoom) {
    throw option_error(fmt::format("invalid --zoom '{}': expected MIN-MAX or Z, whole numbers with "
                                   "0 <= MIN <= MAX <= {}",
                                   text, max_zoom));
  }
  return {*minzoom, *maxzoom};
}

bbox parse_bbox_option(const std::string& text) {
  const std::string expected = "expected minlon,minlat,maxlon,maxlat in degrees";
  std::array<double, 4> values{};
  std::size_t count = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const auto value = parse_number(std::string_view(text).substr(start, comma - start));
    if (!value || count == values.size()) throw option_error("invalid --bbox '" + text + "': " + expected);
    values[count++] = *value;
    start = comma + 1;
  }
  if (count != values.size()) throw option_error("invalid --bbox '" + text + "': " + expected);

  const bbox box{values[0], values[1], values[2], values[3]};
  if (box.minx < -180 || box.maxx > 180 || box.miny < -90 || box.maxy > 90) {
    throw option_error("invalid --bbox '" + text + "': longitudes must be from -180 to 180 and latitudes from -90 "
                       "to 90");
  }
  if (box.minx >= box.maxx || box.miny >= box.maxy) {
    throw option_error("invalid --bbox '" + text + "': minlon must be below maxlon and minlat below maxlat");
  }
  return box;
}

const tileset_settings& tileset_option(const config& settings, const std::string& name) {
  const auto found = settings.tilesets.find(name);
  if (found == settings.tilesets.end()) {
    throw option_error("invalid --tileset '" + name + "': " + settings.file.string() + " configures " +
                       tileset_names(settings));
  }
  return found->second;
}

tile_format format_option(const tileset_settings& tileset, const std::string& text, unsigned scale) {
  const auto format = parse_tile_format(text);
  if (!format) throw option_error("invalid --format '" + text + "': expected png, webp or mvt");
  if (!tileset.serves(*format)) {
    throw option_error("invalid --format '" + text + "': tileset " + tileset.name + " serves " +
                       format_names(tileset));
  }
  if (scale != 1 && scale != 2) throw option_error(fmt::format("invalid --scale {}: expected 1 or 2", scale));
  if (scale == 2 && !is_raster(*format)) {
    throw option_error("invalid --scale 2: @2x applies to png and webp tiles only");
  }
  return *format;
}

config load_command_config(const std::filesystem::path& config_file, const std::filesystem::path& cache_path) {
  config settings = load_config(config_file);
  if (!cache_path.empty()) settings.cache.path = cache_path;
  return settings;
}

void keep_only_tileset(config& settings, const std::string& name) {
  auto tileset_node = settings.tilesets.extract(name);
  settings.tilesets.clear();
  if (tileset_node) settings.tilesets.insert(std::move(tileset_node));
}

style_files style_files_of(const config& settings) {
  style_files styles;
  for (const auto& [name, tileset] : settings.tilesets) styles[name] = tileset.style;
  return styles;
}

tile_store_options store_options_of(const cache_settings& cache) {
  return {cache.path, cache.initial_size_mb << 20, cache.max_size_mb << 20};
}

void log_to_stderr(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("tuilerie", std::move(sink)));
  spdlog::set_level(spdlog::level::from_str(level));
}

int run_seed(const seed_options& options) {
  log_to_stderr(options.log_level);
  config settings = load_command_config(options.config_file, options.cache_path);
  tileset_option(settings, options.tileset);  // lists every tileset in its error, so it runs before the next line
  keep_only_tileset(settings, options.tileset);
  const seed_plan plan = make_seed_plan(settings, options);
  const unsigned threads = options.threads != 0 ? options.threads : settings.server.render_threads;

  apply_postgis_environment(settings.postgis);
  set_postgis_pool_size(settings.postgis.pool_size ? settings.postgis.pool_size : threads);
  setup_mapnik(default_font_directories());
  style_registry styles(style_files_of(settings));
  // Not watching the files: a seed renders the data version found at its start.
  tileset_versions versions(settings, styles);
  tile_store store(store_options_of(settings.cache));
  const std::size_t render_queue = settings.server.limits.render_queue;
  mercator_copies copies(settings.cache.path / "mercator");
  render_pool pool(styles, {threads, render_queue, settings.cache.mercator_copies ? &copies : nullptr});
  metrics counters;
  tile_service service(settings, store, pool, versions, counters);
  render_pool_stopper pool_stopper(pool);

  unit_sequence units(plan);
  spdlog::info("seeding {} in the box {},{},{},{}: {} {} with {} render threads", plan.describe(), plan.area.minx,
               plan.area.miny, plan.area.maxx, plan.area.maxy, units.total(), plan.unit_name(), threads);
  // Twice the render threads keeps every thread busy while results are being
  // stored, and never more than the pool queues, which would reject them.
  const std::size_t max_in_flight = std::min<std::size_t>(2 * std::size_t{threads}, render_queue);
  seeder seed(plan, service, max_in_flight);
  progress_bar progress(stderr, plan.unit_name());

  seed_counts counts;
  int stop_signal = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    const stop_signal_handlers handlers;
    counts = seed.run(units, progress);
    stop_signal = received_stop_signal.load();
  }
  pool.stop();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  progress.finish(seed.state());

  print_summary(plan, counts, units.total(), elapsed.count(), stop_signal);
  const bool lost_results = warn_of_cache_losses(counters, store, settings.cache);
  if (stop_signal != 0) return 128 + stop_signal;
  return counts.tiles_failed > 0 || lost_results ? 1 : 0;
}

}  // namespace tuilerie
