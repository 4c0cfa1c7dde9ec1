"""``python -m bench`` — generate data, measure, write BENCHMARKS.md.

    python -m bench --smoke                      # a few thousand customers, SQLite, no HTTP
    python -m bench --sizes 100000,1000000       # throwaway PostgreSQL cluster, everything
    python -m bench --sizes 100000,1000000 --reuse --work DIR   # keep/reuse the cluster in DIR
    DATABASE_URL=postgresql://… python -m bench  # use that server instead of a throwaway one
"""

from __future__ import annotations

import argparse
import json
import os
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
    ap.add_argument("--http-rounds", type=int, default=2,
                    help="A B B A blocks per role in the HTTP comparison (2 ratios each)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse generated databases of the same size when present and fit "
                         "(same generator; migrated to head, regenerated if its revision is "
                         "unknown)")
    ap.add_argument("--generate-only", action="store_true",
                    help="only make the databases ready (with --reuse: keep fit ones), e.g. "
                         "to pre-generate for a later --reuse run")
    ap.add_argument("--work", default=None,
                    help="work directory: throwaway cluster, PostGraphile, storage "
                         "(default bench/.work; BENCH_WORK)")
    ap.add_argument("--pg-log", default=None,
                    help="the PostgreSQL server log, to count statements per request from it "
                         "(default: the throwaway cluster's; needed with --database-url)")
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
    if args.work:
        os.environ["BENCH_WORK"] = str(Path(args.work).resolve())
    t_start = time.perf_counter()
    sizes = [3000] if args.smoke else [int(s) for s in args.sizes.split(",") if s.strip()]
    runs = 2 if args.smoke else args.runs
    min_time = 0.05 if args.smoke else args.min_time
    res: dict[str, Any] = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": report.stamp(), "runs": runs, "machine": report.machine(),
        "generation": {}, "sizes": {}, "skipped": [], "notes": [],
    }
    cluster, base = _server(args)
    try:
        pg_version = _pg_version(base)
        res["database"] = f"PostgreSQL {pg_version}" if pg_version else "SQLite"
        if args.generate_only:
            for size in sizes:
                _database(args, base, size, res)
            log(f"databases ready in {time.perf_counter() - t_start:.0f} s")
            return 0
        plan = gql.load_plan()
        if not plan.ok:
            res["skipped"].append(f"GraphQL measures (statements, ratios, HTTP): {plan.reason}")
        envs = {size: _measure_size(args, base, size, res, plan, runs, min_time)
                for size in sizes}
        if len(sizes) > 1:
            res["admin_compare"] = _compare_admin(res, sizes)
        _http(args, envs, base, res, cluster)
        res["versions"] = report.versions(pg_version, next(
            (h.get("postgraphile") for h in res.get("http", {}).values()
             if h.get("postgraphile")), None))
    finally:
        if cluster is not None:
            log("stopping the throwaway PostgreSQL cluster")
            cluster.stop()
    res["elapsed_s"] = time.perf_counter() - t_start
    _write(args, res)
    return 0


def _server(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The PostgreSQL server (admin URL): --database-url, DATABASE_URL, else a throwaway
    cluster in the work directory (kept for --reuse); None means SQLite."""
    base = args.database_url or appdb.env_database_url()
    if base == "sqlite":
        return None, None
    cluster = None
    if base is None and not args.smoke:
        from bench import pgcluster

        cluster = pgcluster.Cluster()
        log(f"starting a throwaway PostgreSQL cluster in {cluster.datadir}")
        cluster.start(reuse=args.reuse)
        base = cluster.url()
    return cluster, appdb.normalize_url(base) if base else None


def _pg_version(base: str | None) -> str | None:
    if not (base and base.startswith("postgresql")):
        return None
    eng = create_engine(base)
    with eng.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
    eng.dispose()
    return str(version)


def _database(args: argparse.Namespace, base: str | None, size: int, res: dict
              ) -> tuple[str, datagen.Layout]:
    """The database of ``size`` customers: a kept one when --reuse finds it fit (same
    generator, a migration revision of this checkout: migrated to head), else generated."""
    url = appdb.existing_database(base, size) if args.reuse else None
    mark, why = appdb.reusable(url, size) if args.reuse else (None, "no --reuse")
    if url and mark:
        log(f"{size:,}: {why}: {url}")
        layout = datagen.layout_from_db(create_engine(url))
        timings = mark["timings"]
    else:
        log(f"{size:,}: generating ({why})")
        from portal.passwords import hash_password

        url = appdb.fresh_database(base, size)
        engine = create_engine(url)
        layout, timings = datagen.generate(engine, size, hash_password(datagen.BENCH_PASSWORD))
        engine.dispose()
        appdb.write_mark(url, size, timings)
        log(f"{size:,}: generated in {timings['total']:.1f} s")
    res["generation"][str(size)] = {"timings": timings, "users": len(layout.users),
                                    "rows": _row_count(url)}
    return url, layout


def _measure_size(args: argparse.Namespace, base: str | None, size: int, res: dict,
                  plan: gql.Plan, runs: int, min_time: float) -> suite.Env:
    url, layout = _database(args, base, size, res)
    env = suite.Env(url=url, size=size, layout=layout, app=appdb.make_app(url), plan=plan,
                    runs=runs, min_time=min_time)
    suite.authenticate(env)
    res["auth_note"] = env.auth_note
    m: dict[str, Any] = {}
    log(f"{size:,}: statements per request")
    m["statements"] = suite.statements(env)
    log(f"{size:,}: GraphQL ÷ Core + orjson ÷ raw SQL floor")
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
    return env


def _http(args: argparse.Namespace, envs: dict[int, suite.Env], base: str | None, res: dict,
          cluster: Any) -> None:
    if args.smoke or args.no_http:
        _skip(res, "HTTP throughput and PostGraphile: "
              + ("not part of the smoke run" if args.smoke else "--no-http"))
        return
    from bench import httpbench

    res["http"] = {}
    pg_log = args.pg_log or (str(cluster.datadir / "server.log") if cluster else None)
    for size, env in envs.items():
        log(f"{size:,}: HTTP throughput (gunicorn vs PostGraphile, A B B A)")
        h = httpbench.run(env, base, duration=args.http_duration,
                          postgraphile=not args.no_postgraphile, rounds=args.http_rounds,
                          pg_log=pg_log)
        res["http"][str(size)] = h
        if h.get("skipped"):
            _skip(res, f"HTTP throughput: {h['skipped']}")


def _write(args: argparse.Namespace, res: dict) -> None:
    if args.baseline:
        res["baseline"] = json.loads(Path(args.baseline).read_text())
    if args.notes:
        res["notes"] += [" ".join(p.split()) for p in
                         Path(args.notes).read_text().split("\n\n") if p.strip()]
    res["verdict"] = report.verdict(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=str))
    out = args.output or (None if args.smoke else str(ROOT / "BENCHMARKS.md"))
    if out:
        Path(out).write_text(report.render(res))
        log(f"wrote {out} in {res['elapsed_s']:.0f} s")
    else:
        print(report.render(res))
    log("verdict: " + ("goal met" if res["verdict"]["met"] else "goal NOT met: "
                       + "; ".join(res["verdict"]["failed"])))


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
