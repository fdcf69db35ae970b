"""CSV export benchmark: ``paywall export-readers`` over many readers, in bounded memory.

Seeds a fresh database with readers in Core inserts (as ``bench/articles.py`` does, in
batches), every 20th a subscriber with a card, then runs ``paywall export-readers`` as a
child process twice: once at ``--small`` readers and once at ``--readers``. It prints each
run's time, rows per second and peak RSS (``resource.getrusage`` of the child): a peak
that does not grow with the table is the point, the export reading a page of 1,000 rows
at a time.

Run: python bench/export.py [--readers 1000000] [--small 10000]
     [--database-url postgresql+psycopg://USER@HOST/DB]

Exits 0 once it has measured, 1 when it cannot set up, 130 on Ctrl-C; the temporary
database and files are removed on the way out.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from articles import fresh_database, production_environment  # noqa: E402
from harness import run_benchmark  # noqa: E402

BATCH = 20_000
SUBSCRIBER_EVERY = 20


def seed(start: int, stop: int, now: datetime) -> None:
    """Readers ``start`` .. ``stop - 1`` in Core inserts of :data:`BATCH` rows; every
    :data:`SUBSCRIBER_EVERY`-th with a customer, an active subscription and a card."""
    from sqlalchemy import insert, select

    from billing.models import Customer, PaymentMethod, Subscription
    from paywall.accounts.models import Reader
    from paywall.extensions import db

    for first in range(start, stop, BATCH):
        last = min(first + BATCH, stop)
        readers = [reader_row(i, now) for i in range(first, last)]
        db.session.execute(insert(Reader), readers)
        emails = [r["email"] for i, r in enumerate(readers, first) if i % SUBSCRIBER_EVERY == 0]
        paying = db.session.scalars(select(Reader.id).where(Reader.email.in_(emails))).all()
        db.session.execute(insert(Customer), [customer_row(rid) for rid in paying])
        customers = db.session.execute(
            select(Customer.id, Customer.reader_id).where(Customer.reader_id.in_(paying))
        ).all()
        db.session.execute(insert(Subscription), [subscription_row(c, now) for c, _ in customers])
        db.session.execute(insert(PaymentMethod), [card_row(c, r, now) for c, r in customers])
        db.session.commit()
        print(f"  seeded {last:,} readers", file=sys.stderr, flush=True)


def reader_row(i: int, now: datetime) -> dict[str, object]:
    return {
        "email": f"reader{i}@bench.example",
        "name": f"Reader {i}",
        "role": "reader",
        "email_verified_at": now if i % 3 else None,
        "is_comped": False,
        "security_stamp": 0,
        "created_at": now - timedelta(seconds=i),
    }


def customer_row(reader_id: int) -> dict[str, object]:
    return {
        "reader_id": reader_id,
        "stripe_customer_id": f"cus_bench{reader_id}",
        "default_payment_method_id": f"pm_bench{reader_id}",
        "email": "",
        "deleted": False,
    }


def subscription_row(customer_id: int, now: datetime) -> dict[str, object]:
    return {
        "stripe_subscription_id": f"sub_bench{customer_id}",
        "customer_id": customer_id,
        "status": "active",
        "plan_code": "monthly",
        "was_active": True,
        "current_period_end": now + timedelta(days=20),
        "created_at": now,
    }


def card_row(customer_id: int, reader_id: int, now: datetime) -> dict[str, object]:
    return {
        "stripe_payment_method_id": f"pm_bench{reader_id}",
        "customer_id": customer_id,
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": now.year + 3,
    }


def export(env: dict[str, str], output: Path) -> tuple[float, int, int]:
    """Run ``paywall export-readers`` in a child process: seconds, rows, peak RSS (KiB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paywall", "export-readers", "--output", str(output)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"export-readers failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with output.open("rb") as file:
        rows = sum(1 for _ in file) - 1
    output.unlink()
    return seconds, rows, peak


def run(args: argparse.Namespace) -> None:
    from flask_migrate import upgrade

    from paywall import create_app
    from paywall.extensions import db

    with (
        tempfile.TemporaryDirectory(prefix="paywall-export-") as tmp,
        fresh_database(args.database_url, Path(tmp)) as url,
    ):
        workdir = Path(tmp)
        env = production_environment(secrets.token_urlsafe(32), url, workdir)
        app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url,
                          "INSTANCE_PATH": str(workdir)})  # fmt: skip
        now = datetime.now(UTC)
        results = []
        with app.app_context():
            upgrade()
            seeded = 0
            for size in (args.small, args.readers):
                seed(seeded, size, now)
                seeded = size
                seconds, rows, peak = export(env, workdir / "readers.csv")
                if rows != size:
                    raise RuntimeError(f"exported {rows:,} rows of {size:,}")
                results.append((rows, seconds, peak))
            db.session.remove()
            db.engine.dispose()
    print(f"{'readers':>10} {'seconds':>8} {'rows/s':>9} {'peak RSS':>10}")
    for rows, seconds, peak in results:
        print(f"{rows:>10,} {seconds:>8.1f} {rows / seconds:>9,.0f} {peak / 1024:>8.0f} MB")
    print("(peak RSS: the larger of the child runs so far; the first row is the small run)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is used)")
    args = parser.parse_args(argv)
    if not 0 < args.small < args.readers:
        parser.error("0 < --small < --readers")
    return run_benchmark(run, args)


if __name__ == "__main__":
    raise SystemExit(main())
