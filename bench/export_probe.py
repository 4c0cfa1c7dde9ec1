"""Run in a subprocess: log in as the general manager, stream the admin customer CSV export
(or, with ``--floor``, a Core ``yield_per`` CSV stream) to nowhere, and print JSON with the
process's RSS high-water mark before and after, the bytes and the seconds."""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import sys
import time


def _hwm_kib() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _stream(client, url: str) -> int:
    resp = client.get(url, buffered=False)
    if resp.status_code != 200:
        raise RuntimeError(f"export answered {resp.status_code}")
    n = 0
    try:
        for chunk in resp.response:
            n += len(chunk)
    finally:
        resp.close()
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--username", default="gm")
    ap.add_argument("--password", required=True)
    ap.add_argument("--floor", action="store_true")
    args = ap.parse_args()

    from bench.appdb import make_app

    app = make_app(args.url)
    t0 = time.perf_counter()
    nbytes = 0
    note = None
    if args.floor:
        from sqlalchemy import select

        from models import Customer
        from portal.extensions import db

        with app.app_context():
            before = _hwm_kib()
            c = Customer.__table__
            cols = [c.c.id, c.c.code, c.c.name, c.c.status, c.c.phone, c.c.registered_at]
            with db.engine.connect() as conn:
                result = conn.execution_options(yield_per=2000).execute(
                    select(*cols).order_by(c.c.id))
                buf = io.StringIO()
                w = csv.writer(buf)
                for part in result.partitions():
                    for row in part:
                        w.writerow(row)
                    nbytes += len(buf.getvalue().encode())
                    buf.seek(0)
                    buf.truncate()
    else:
        from bench.adminprobe import find_customer_view, sign_in

        client = app.test_client()
        status = sign_in(app, client, args.username, args.password)
        if status != 302:
            print(json.dumps({"error": f"login failed: {status}"}))
            return 1
        view = find_customer_view(app)
        if view is None or view.export_url is None:
            print(json.dumps({"error": "no admin customer export"}))
            return 1
        url = view.export_url
        before = _hwm_kib()
        note = None
        try:
            nbytes = _stream(client, url)
        except Exception as exc:
            # The stream outlived its request context (no stream_with_context): measure again
            # with an outer app context holding a session, and say so.
            note = (f"as shipped the stream fails after the request context is torn down "
                    f"({exc.__class__.__name__}); measured inside an outer app context")
            with app.app_context():
                nbytes = _stream(client, url)
    seconds = time.perf_counter() - t0
    print(json.dumps({"hwm_before_kib": before, "hwm_after_kib": _hwm_kib(), "bytes": nbytes,
                      "seconds": seconds, "note": note if not args.floor else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
