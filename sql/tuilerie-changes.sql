-- Edit tracking for Tuilerie: every insert, update or delete on a watched
-- table records the edited rows' box in degrees in tuilerie.changes and
-- announces it on a channel ('tuilerie_changes' unless the trigger names
-- another), so that every Tuilerie
-- process purges the cached tiles the edit touched (postgis.changes_channel
-- and tilesets.NAME.postgis_tables in the configuration).
--
-- Install once per database:     psql -f sql/tuilerie-changes.sql
-- Watch a table (geometry column 'geom' here):
--   CREATE TRIGGER tuilerie_changes AFTER INSERT OR UPDATE OR DELETE ON flood.zone_alea
--     FOR EACH ROW EXECUTE FUNCTION tuilerie.record_change('geom');
-- Housekeeping: rows older than the longest time a Tuilerie process may be
-- stopped can go, for example every night:
--   DELETE FROM tuilerie.changes WHERE changed_at < now() - interval '7 days';

CREATE SCHEMA IF NOT EXISTS tuilerie;

CREATE TABLE IF NOT EXISTS tuilerie.changes (
  id bigserial PRIMARY KEY,
  table_name text NOT NULL,              -- schema.table, as in tilesets.NAME.postgis_tables
  west double precision NOT NULL,        -- box of the edited geometry, EPSG:4326 degrees
  south double precision NOT NULL,
  east double precision NOT NULL,
  north double precision NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);

-- Records the box of one geometry. A null or empty geometry touches no tile.
CREATE OR REPLACE FUNCTION tuilerie.record_box(table_name text, geom geometry) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  box box2d;
BEGIN
  IF geom IS NULL OR ST_IsEmpty(geom) THEN
    RETURN;
  END IF;
  -- The envelope is transformed as a polygon, then boxed again, since a
  -- rectangle in Lambert-93 is not one in degrees.
  IF ST_SRID(geom) = 4326 OR ST_SRID(geom) = 0 THEN
    box := ST_Envelope(geom)::box2d;
  ELSE
    box := ST_Transform(ST_Envelope(geom), 4326)::box2d;
  END IF;
  INSERT INTO tuilerie.changes (table_name, west, south, east, north)
  VALUES (table_name, ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box));
END;
$$;

-- Row trigger: the old geometry (update, delete) and the new one (insert,
-- update) both touch tiles. TG_ARGV[0] names the geometry column ('geom' by
-- default) and TG_ARGV[1] the channel ('tuilerie_changes' by default).
CREATE OR REPLACE FUNCTION tuilerie.record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  geometry_column text := coalesce(TG_ARGV[0], 'geom');
  channel text := coalesce(TG_ARGV[1], 'tuilerie_changes');
  table_name text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  old_geom geometry;
  new_geom geometry;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format('SELECT ($1).%I', geometry_column) INTO old_geom USING OLD;
    PERFORM tuilerie.record_box(table_name, old_geom);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format('SELECT ($1).%I', geometry_column) INTO new_geom USING NEW;
    -- An attribute edit keeps the geometry: its box is recorded once.
    IF TG_OP = 'INSERT' OR NOT ST_OrderingEquals(old_geom, new_geom) OR old_geom IS NULL THEN
      PERFORM tuilerie.record_box(table_name, new_geom);
    END IF;
  END IF;
  -- Notifications with the same payload in one transaction are sent once,
  -- at commit, so a bulk edit wakes each listener once.
  PERFORM pg_notify(channel, table_name);
  RETURN NULL;
END;
$$;
