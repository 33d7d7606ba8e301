#!/usr/bin/env python3
"""Check routes written by `skuplan bench vrp --routes-out DIR` against the
Solomon instance files, independently of skuplan: every customer exactly
once, no vehicle over capacity, every service started within its window,
every vehicle back at the depot before it closes. Prints vehicles and
distance per instance beside solomon_bks.csv.

    python3 tools/check_solomon_routes.py SOLOMON_DIR ROUTES_DIR
"""
import csv
import math
import sys
from pathlib import Path


def read_instance(path):
    lines = [l.split() for l in path.read_text().splitlines()]
    fleet = None
    nodes = []
    for i, f in enumerate(lines):
        if fleet is None and len(f) == 2 and all(x.isdigit() for x in f):
            fleet = (int(f[0]), int(f[1]))
        elif fleet is not None and len(f) == 7 and f[0].isdigit():
            num, x, y, q, r, d, s = (float(v) for v in f)
            nodes.append((int(num), x, y, q, r, d, s))
    return fleet, {n[0]: n for n in nodes}


def main(sol_dir, routes_dir):
    bks = {}
    with open(Path(sol_dir) / "solomon_bks.csv") as f:
        for row in csv.DictReader(f):
            bks[row["instance"].upper()] = (float(row["bks_vehicles"]), float(row["bks_distance"]))
    bad = 0
    for rf in sorted(Path(routes_dir).glob("*.csv")):
        name = rf.stem.upper()
        (vehicles, cap), nodes = read_instance(Path(sol_dir) / f"{rf.stem}.txt")
        routes = {}
        with open(rf) as f:
            for row in csv.DictReader(f):
                routes.setdefault(row["vehicle"], []).append((int(row["seq"]), int(row["customer"])))
        errors = []
        seen = {}
        dist = 0.0
        depot = nodes[0]
        dd = lambda a, b: math.hypot(a[1] - b[1], a[2] - b[2])
        for v, stops in routes.items():
            stops.sort()
            load = 0.0
            at, t = depot, depot[4]
            for _, c in stops:
                n = nodes[c]
                seen[c] = seen.get(c, 0) + 1
                load += n[3]
                dist += dd(at, n)
                t = max(t + dd(at, n), n[4])
                if t > n[5] + 1e-6:
                    errors.append(f"vehicle {v}: customer {c} served at {t:.2f} > due {n[5]}")
                t += n[6]
                at = n
            dist += dd(at, depot)
            if t + dd(at, depot) > depot[5] + 1e-6:
                errors.append(f"vehicle {v}: back at {t + dd(at, depot):.2f} > {depot[5]}")
            if load > cap:
                errors.append(f"vehicle {v}: load {load} > {cap}")
        for c in nodes:
            if c != 0 and seen.get(c) != 1:
                errors.append(f"customer {c} visited {seen.get(c, 0)} times")
        if len(routes) > vehicles:
            errors.append(f"{len(routes)} vehicles > {vehicles} available")
        bv, bd = bks.get(name, (float("nan"), float("nan")))
        print(f"{name:<7} {len(routes):>3} {bv:>4.0f} {dist:>9.2f} {bd:>9.2f} {100 * (dist - bd) / bd:>+6.2f}% "
              f"{'ok' if not errors else 'BROKEN: ' + '; '.join(errors[:3])}")
        bad += bool(errors)
    print(f"instances with a broken rule: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
