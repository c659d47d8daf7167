"""Decodes the Digital Chart of the World polygons shipped by Debian's gmt-dcw into GeoJSON.

Usage: dcw_to_geojson.py DCW_DIR OUT.geojson

dcw-gmt.nc (netCDF-4/HDF5, which GDAL cannot read here) holds, per area tag (FR, USTX), uint16 arrays
<TAG>_lon and <TAG>_lat with attributes min and scale: value = u / scale + min. 65535 separates rings.
Longitudes may run 0..360; PostGIS wraps them later (ST_WrapX). Each ring becomes a polygon of a
MultiPolygon; overlaps (how the set marks holes) are resolved by ST_MakeValid when the rows are published.
"""
import json
import sys
import time

import h5py
import numpy as np


def names(path, tag_of):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            a, b, name = line.rstrip("\n").split(None, 2)
            out.append((tag_of(a, b), name.strip()))
    return out


def decode(dataset):
    raw = dataset[:]
    values = raw.astype(np.float64) / float(dataset.attrs["scale"][0]) + float(dataset.attrs["min"][0])
    return raw, values


def rings(f, tag):
    raw_lon, lon = decode(f[tag + "_lon"])
    _, lat = decode(f[tag + "_lat"])
    breaks = np.flatnonzero(raw_lon == 65535)
    start = 0
    for end in list(breaks) + [len(raw_lon)]:
        if end - start >= 3:
            ring = np.column_stack((lon[start:end], lat[start:end])).round(6).tolist()
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            if len(ring) >= 4:
                yield [ring]
        start = end + 1


def main(dcw_dir, out_path):
    areas = [(tag, name, "country") for tag, name in names(f"{dcw_dir}/dcw-countries.txt", lambda _c, t: t)]
    areas += [(tag, name, "state") for tag, name in names(f"{dcw_dir}/dcw-states.txt", lambda c, s: c + s)]
    started = time.monotonic()
    vertices = 0
    with h5py.File(f"{dcw_dir}/dcw-gmt.nc", "r") as f, open(out_path, "w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","features":[\n')
        for i, (tag, name, kind) in enumerate(areas):
            polygons = list(rings(f, tag))
            vertices += sum(len(p[0]) for p in polygons)
            feature = {"type": "Feature", "properties": {"code": tag, "name": name, "kind": kind},
                       "geometry": {"type": "MultiPolygon", "coordinates": polygons}}
            out.write(("," if i else "") + json.dumps(feature, separators=(",", ":")) + "\n")
            if (i + 1) % 50 == 0 or i + 1 == len(areas):
                print(f"  decoded {i + 1}/{len(areas)} areas, {vertices:,} vertices, "
                      f"{time.monotonic() - started:.0f} s", flush=True)
        out.write("]}\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
