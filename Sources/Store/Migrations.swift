/// One versioned schema change. Statements run in order inside one transaction.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var statements: [String]
}

/// The schema of the search store, oldest first. Append new migrations; never edit an applied one
/// (the runner records each version once and skips it afterwards).
public enum StoreSchema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "area table", statements: [
            "CREATE EXTENSION IF NOT EXISTS postgis",
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            // Same shape as scripts/load-demo-data creates, so a database loaded first is adopted as is.
            """
            CREATE TABLE IF NOT EXISTS area (
              id     bigserial PRIMARY KEY,
              source text NOT NULL,
              kind   text NOT NULL,
              code   text,
              name   text NOT NULL,
              geom   geometry(MultiPolygon, 4326) NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS area_geom_idx ON area USING gist (geom)",
            "CREATE INDEX IF NOT EXISTS area_name_trgm_idx ON area USING gin (lower(name) gin_trgm_ops)",
        ]),
        // Big polygons make point lookups slow (the US mainland in DCW has ~1 M vertices: 65 ms per lookup).
        // Points are matched against small pieces instead (ST_Subdivide, at most 255 vertices each), and
        // the matching pieces are folded back to their area so each area comes back once. A trigger keeps
        // the pieces in step with whatever writes `area` (the loader replaces rows with DELETE + INSERT).
        Migration(version: 2, name: "subdivided pieces for point lookups", statements: [
            // Planar area in square degrees: only used to order "smallest containing area first".
            "ALTER TABLE area ADD COLUMN IF NOT EXISTS size double precision GENERATED ALWAYS AS (ST_Area(geom)) STORED",
            """
            CREATE TABLE area_piece (
              area_id bigint NOT NULL REFERENCES area (id) ON DELETE CASCADE,
              geom    geometry(Geometry, 4326) NOT NULL
            )
            """,
            "INSERT INTO area_piece (area_id, geom) SELECT id, ST_Subdivide(geom, 255) FROM area",
            "CREATE INDEX area_piece_geom_idx ON area_piece USING gist (geom)",
            "CREATE INDEX area_piece_area_idx ON area_piece (area_id)",
            """
            CREATE FUNCTION area_cut_pieces() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              DELETE FROM area_piece WHERE area_id = NEW.id;
              INSERT INTO area_piece (area_id, geom) SELECT NEW.id, ST_Subdivide(NEW.geom, 255);
              RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER area_pieces AFTER INSERT OR UPDATE OF geom ON area
            FOR EACH ROW EXECUTE FUNCTION area_cut_pieces()
            """,
            "ANALYZE area_piece",
        ]),
    ]
}
