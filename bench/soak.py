"""Soak: hundreds of clients saving and reading at once against fangkong served by uvicorn, for a while.

Serves fangkong with uvicorn in its own process on a database (a fresh SQLite file by default, or
``--database-url``, which should be an empty, migrated-on-the-fly database), seeds the demo region's
jurisdictions and one investigator, then:

1. baseline: ``--clients`` clients ask ``/healthz`` (no database, no thread) for ``--baseline-seconds``:
   what the server and this client process can do at all on this machine;
2. soak: the same clients for ``--seconds``, each in a loop registering a case for a new resident
   (``POST /api/tracing/cases``, share ``--write-share``) or reading the case list or the registry,
   while a watcher asks ``/healthz`` twice a second.

Prints a table and one JSON line per figure: requests per second, p50 and p95 latency (each against
``/healthz`` on the same server), errors (any 5xx, refusal or unanswered request; none is acceptable)
and the watcher's slowest ``/healthz``. Issue 11, item 0: forty people saving at once used to hang
the server for good.

    python bench/soak.py [--seconds 60] [--clients 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fangkong.core import audit, jurisdictions, users
from fangkong.core.db import Database
from fangkong.core.demo.region import demo_region_spec
from fangkong.core.idnumber import check_digit
from fangkong.core.migrate import upgrade
from fangkong.core.national import rows_of

PASSWORD = "soak-password-42"
REQUEST_TIMEOUT = 60.0  # seconds one request may take before it counts as unanswered
SURNAMES = "张王李赵陈刘杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "建华", "玉兰", "国强", "丽娟", "春梅", "晓明", "红霞"]


@dataclass
class Phase:
    """What the clients saw in one phase."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency at quantile ``q`` in milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def seed(url: str) -> tuple[str, list[str]]:
    """The demo region's jurisdictions and an investigator in its first county; returns the county's
    code and its communities' codes."""
    region = demo_region_spec()
    county = region.counties[0].code
    communities = [c.code for c in region.communities if c.code.startswith(county)]
    upgrade(url)
    db = Database(url)
    try:
        with db.unit_of_work() as session:
            jurisdictions.import_tree(session, audit.SYSTEM, rows_of(region.all_divisions()))
            users.create_user(
                session,
                audit.SYSTEM,
                "/",
                username="soak_investigator",
                display_name="压测流调员",
                role="investigator",
                jurisdiction_code=county,
                password=PASSWORD,
            )
    finally:
        db.dispose()
    return county, communities


@contextmanager
def served(url: str, var_dir: Path) -> Iterator[str]:
    """fangkong under uvicorn in its own process; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "FANGKONG_ENV": "test",
        "FANGKONG_VAR_DIR": str(var_dir),
        "FANGKONG_DATABASE_URL": url,
        "FANGKONG_SECRET_KEY": secrets.token_urlsafe(32),
        "FANGKONG_ENCRYPTION_KEY": _key(),
        "FANGKONG_HASH_KEY": _key(),
    }
    command = [sys.executable, "-m", "uvicorn", "fangkong.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


class Residents:
    """New residents for case reports: valid, distinct ID numbers in the county's communities."""

    def __init__(self, county: str, communities: list[str]) -> None:
        self.county = county
        self.communities = communities
        self.issued = 0

    def next(self) -> dict[str, object]:
        n = self.issued
        self.issued += 1
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=n // 800)
        first17 = f"{self.county}{birth:%Y%m%d}{100 + n % 800:03d}"
        return {
            "id_number": first17 + check_digit(first17),
            "name": SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)],
            "community_code": self.communities[n % len(self.communities)],
            "address": f"幸福路{n % 300 + 1}号",
        }


async def _timed(http: httpx.AsyncClient, phase: Phase, method: str, url: str, body: object = None) -> None:
    started = time.perf_counter()
    try:
        response = await http.request(method, url, json=body)
    except httpx.HTTPError as exc:
        phase.errors.append(f"{method} {url}: {type(exc).__name__}")
        return
    if response.status_code >= 400:
        phase.errors.append(f"{method} {url}: {response.status_code}")
        return
    phase.latencies.append(time.perf_counter() - started)


async def run_phase(
    base: str, phase: Phase, clients: int, seconds: float, headers: dict[str, str], work: Work | None
) -> None:
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            if work is None:
                await _timed(http, phase, "GET", "/healthz")
            elif rng.random() < work.write_share:
                body = {"classification": "confirmed", "person": work.residents.next()}
                await _timed(http, phase, "POST", "/api/tracing/cases", body)
            elif rng.random() < 0.5:
                await _timed(http, phase, "GET", "/api/tracing/cases?size=20")
            else:
                await _timed(http, phase, "GET", f"/api/people?size=20&page={rng.randint(1, 5)}")

    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
    ) as http:
        await asyncio.gather(*(client(i) for i in range(clients)))
    phase.seconds = time.monotonic() - started


@dataclass
class Work:
    residents: Residents
    write_share: float


def watch_health(base: str, stop: threading.Event, slowest: list[float]) -> None:
    """Ask /healthz twice a second from a thread of its own; keep the slowest answer (inf: none)."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            answered = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        except httpx.HTTPError:
            answered = False
        took = time.perf_counter() - started if answered else float("inf")
        slowest[0] = max(slowest[0], took)
        stop.wait(0.5)


def figure(metric: str, value: float, unit: str, baseline: str, baseline_value: float) -> str:
    ratio = round(value / baseline_value, 3) if baseline_value else None
    return json.dumps(
        {
            "bench": "soak",
            "metric": metric,
            "value": round(value, 3),
            "unit": unit,
            "baseline": baseline,
            "baseline_value": round(baseline_value, 3),
            "ratio": ratio,
        },
        ensure_ascii=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the soak")
    parser.add_argument(
        "--baseline-seconds", type=float, default=15.0, help="length of the /healthz baseline"
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--write-share", type=float, default=0.3, help="share of requests that register a case"
    )
    parser.add_argument("--database-url", default="", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'soak.db'}"
        county, communities = seed(url)
        with served(url, Path(tmp)) as base:
            token = httpx.post(
                f"{base}/api/auth/token",
                json={"username": "soak_investigator", "password": PASSWORD},
                timeout=REQUEST_TIMEOUT,
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
            baseline = Phase("/healthz (baseline)")
            asyncio.run(run_phase(base, baseline, args.clients, args.baseline_seconds, headers, None))
            soak = Phase("cases and reads")
            slowest = [0.0]
            stop = threading.Event()
            watcher = threading.Thread(target=watch_health, args=(base, stop, slowest), daemon=True)
            watcher.start()
            work = Work(Residents(county, communities), args.write_share)
            asyncio.run(run_phase(base, soak, args.clients, args.seconds, headers, work))
            stop.set()
            watcher.join(timeout=15)

    backend = url.split(":", 1)[0]
    print(f"\nsoak on {backend}: {args.clients} clients, {work.residents.issued:,} cases sent\n")
    print(f"{'phase':<22}{'seconds':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for phase in (baseline, soak):
        print(
            f"{phase.name:<22}{phase.seconds:>8.1f}{phase.requests:>10,}{phase.per_second():>9.1f}"
            f"{phase.percentile(0.5):>9.1f}{phase.percentile(0.95):>9.1f}{len(phase.errors):>8}"
        )
    print(f"slowest /healthz during the soak: {slowest[0]:.2f} s")
    for error in sorted(set(soak.errors))[:10]:
        print(f"  error: {error}")
    print()
    healthz = "/healthz on the same server"
    print(figure("requests_per_second", soak.per_second(), "req/s", healthz, baseline.per_second()))
    print(figure("p50_latency", soak.percentile(0.5), "ms", healthz, baseline.percentile(0.5)))
    print(figure("p95_latency", soak.percentile(0.95), "ms", healthz, baseline.percentile(0.95)))
    print(figure("errors", len(soak.errors), "requests", "none acceptable", 0))
    print(figure("slowest_healthz_during_soak", slowest[0], "s", "request timeout", REQUEST_TIMEOUT))


if __name__ == "__main__":
    main()
