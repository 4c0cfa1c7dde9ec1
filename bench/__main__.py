"""``python -m bench`` — generate data, measure, write BENCHMARKS.md.

    python -m bench --smoke                      # a few thousand customers, SQLite, no HTTP
    python -m bench --sizes 100000,1000000       # throwaway PostgreSQL cluster, everything
    DATABASE_URL=postgresql://… python -m bench  # use that server instead of a throwaway one
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import appdb, datagen, gql, report, suite
from bench.measure import median

ROOT = Path(__file__).resolve().parent.parent


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true",
                    help="small size, SQLite unless DATABASE_URL, no gunicorn/PostGraphile")
    ap.add_argument("--sizes", default="100000",
                    help="comma-separated customer counts (default 100000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measure (medians)")
    ap.add_argument("--min-time", type=float, default=0.3,
                    help="seconds of looping per timed run")
    ap.add_argument("--database-url", default=None,
                    help="PostgreSQL server (admin URL) or 'sqlite'; default: DATABASE_URL, else "
                         "a throwaway cluster (SQLite with --smoke)")
    ap.add_argument("--no-http", action="store_true", help="skip gunicorn/wrk/PostGraphile")
    ap.add_argument("--no-postgraphile", action="store_true")
    ap.add_argument("--http-duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse generated databases of the same size when present")
    ap.add_argument("--output", default=None,
                    help="report path (default BENCHMARKS.md; the smoke writes none)")
    ap.add_argument("--json", default=None, help="also dump raw results as JSON here")
    ap.add_argument("--baseline", default=None,
                    help="an earlier --json result: its ratios are shown next to this run's")
    ap.add_argument("--notes", default=None,
                    help="a text file of notes (one per paragraph) added to the report")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    t_start = time.perf_counter()
    sizes = [3000] if args.smoke else [int(s) for s in args.sizes.split(",") if s.strip()]
    runs = 2 if args.smoke else args.runs
    min_time = 0.05 if args.smoke else args.min_time
    http = not (args.smoke or args.no_http)

    base = args.database_url or appdb.env_database_url()
    if base == "sqlite":
        base = None
    cluster = None
    if base is None and not args.smoke:
        from bench import pgcluster

        cluster = pgcluster.Cluster()
        log(f"starting a throwaway PostgreSQL cluster in {cluster.datadir}")
        cluster.start(reuse=args.reuse)
        base = cluster.url()
    base = appdb.normalize_url(base) if base else None
    pg_version = None
    if base and base.startswith("postgresql"):
        eng = create_engine(base)
        with eng.connect() as conn:
            pg_version = conn.execute(text("SHOW server_version")).scalar_one()
        eng.dispose()

    res: dict[str, Any] = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": report.stamp(), "runs": runs, "machine": report.machine(),
        "database": f"PostgreSQL {pg_version}" if pg_version else "SQLite",
        "generation": {}, "sizes": {}, "skipped": [], "notes": [],
    }
    plan = gql.load_plan()
    if not plan.ok:
        res["skipped"].append(f"GraphQL measures (statements, ratios, HTTP): {plan.reason}")
    try:
        from portal.passwords import hash_password

        pw_hash = hash_password(datagen.BENCH_PASSWORD)
        envs: dict[int, suite.Env] = {}
        for size in sizes:
            url = appdb.existing_database(base, size) if args.reuse else None
            saved = appdb.WORK / f"generation_{size}.json"
            if url and saved.exists():
                log(f"{size:,}: reusing {url} (migrating it to head)")
                appdb.migrate(url)  # new revisions (indexes) apply to a kept database too
                layout = datagen.layout_from_db(create_engine(url))
                timings = json.loads(saved.read_text())
            else:
                log(f"{size:,}: migrating a fresh database")
                url = appdb.fresh_database(base, size)
                engine = create_engine(url)
                layout, timings = datagen.generate(engine, size, pw_hash)
                engine.dispose()
                log(f"{size:,}: generated in {timings['total']:.1f} s")
                saved.write_text(json.dumps(timings))
            res["generation"][str(size)] = {"timings": timings, "users": len(layout.users),
                                            "rows": _row_count(url)}
            app = appdb.make_app(url)
            env = suite.Env(url=url, size=size, layout=layout, app=app, plan=plan, runs=runs,
                            min_time=min_time)
            suite.authenticate(env)
            res["auth_note"] = env.auth_note
            envs[size] = env
            m: dict[str, Any] = {}
            log(f"{size:,}: statements per request")
            m["statements"] = suite.statements(env)
            log(f"{size:,}: GraphQL ÷ Core + orjson")
            m["ratios"] = suite.ratios(env, (1000,) if args.smoke else (1000, 10000))
            log(f"{size:,}: admin pages")
            m["admin"] = suite.admin_pages(env)
            if m["admin"].get("skipped"):
                _skip(res, f"admin page timings: {m['admin']['skipped']}")
            log(f"{size:,}: CSV export peak RSS")
            res.setdefault("export", {})[str(size)] = suite.export_rss(env)
            if res["export"][str(size)].get("skipped"):
                _skip(res, f"admin CSV export RSS: {res['export'][str(size)]['skipped']}")
            res["sizes"][str(size)] = m
        if len(sizes) > 1:
            res["admin_compare"] = _compare_admin(res, sizes)
        if http:
            from bench import httpbench

            res["http"] = {}
            for size in sizes:
                log(f"{size:,}: HTTP throughput (gunicorn vs PostGraphile)")
                h = httpbench.run(envs[size], base, duration=args.http_duration,
                                  postgraphile=not args.no_postgraphile)
                res["http"][str(size)] = h
                if h.get("skipped"):
                    _skip(res, f"HTTP throughput: {h['skipped']}")
        else:
            _skip(res, "HTTP throughput and PostGraphile: "
                  + ("not part of the smoke run" if args.smoke else "--no-http"))
        res["versions"] = report.versions(pg_version, next(
            (h.get("postgraphile") for h in res.get("http", {}).values()
             if h.get("postgraphile")), None))
    finally:
        if cluster is not None:
            log("stopping the throwaway PostgreSQL cluster")
            cluster.stop()
    res["elapsed_s"] = time.perf_counter() - t_start
    if args.baseline:
        res["baseline"] = json.loads(Path(args.baseline).read_text())
    if args.notes:
        res["notes"] += [" ".join(p.split()) for p in
                         Path(args.notes).read_text().split("\n\n") if p.strip()]
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=str))
    out = args.output or (None if args.smoke else str(ROOT / "BENCHMARKS.md"))
    if out:
        Path(out).write_text(report.render(res))
        log(f"wrote {out} in {res['elapsed_s']:.0f} s")
    else:
        print(report.render(res))
    return 0


def _skip(res: dict, msg: str) -> None:
    if msg not in res["skipped"]:
        res["skipped"].append(msg)


def _row_count(url: str) -> int:
    eng = create_engine(url)
    total = 0
    with eng.connect() as conn:
        for t in ("customers", "complaints", "credit_evaluations", "credit_lines",
                  "reception_records", "confidential_files", "users"):
            total += conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
    eng.dispose()
    return total


def _compare_admin(res: dict, sizes: list[int]) -> list[dict]:
    small = res["sizes"][str(sizes[0])].get("admin", {}).get("rows") or []
    large = res["sizes"][str(sizes[-1])].get("admin", {}).get("rows") or []
    out = []
    for a, b in zip(small, large, strict=False):
        if "s" in a and "s" in b and a["mode"] == b["mode"]:
            page = "page 1" if a["page"] == "page 1" else "deep page (90%)"
            out.append({"mode": a["mode"], "page": page, "small": a["s"], "large": b["s"],
                        "ratio": b["s"] / a["s"]})
    return out


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


_ = median

if __name__ == "__main__":
    sys.exit(main())
