"""Time the web app's preview of a 100,000-line file and measure the app's memory.

    .venv/bin/python benchmarks/bench_web.py                 # 100k lines, 3 previews, 10 uploads
    .venv/bin/python benchmarks/bench_web.py --lines 10000 --concurrent 4

On a shared machine the wall times show the wait for a core: each time is followed by the app's
own CPU seconds for the same request (from /proc/<pid>/stat).

`batch web` runs as a real process (uvicorn, in-process sandbox of as many users as lines) in a
temporary folder. Printed, one line each:

    upload -> preview   POST /upload until the redirect: store, load, rules, read the account,
                        plan, plan report (the server's whole work for a preview)
    first page          GET /runs/<id>: the preview page with its first 50 lines, after the plan
                        is made (target < 2 s)
    page 1000 filtered  GET /runs/<id>?outcome=invalid&page=2&email=user0: another page
    memory, 3 previews  the app's resident and peak memory with three previews open (< 1.5 GB)
    N concurrent        N uploads at once: wall time until all previews are made, peak memory
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import ensure_account, ensure_input  # noqa: E402

BATCH = Path(sys.executable).parent / "batch"
PASSWORD = "benchmark password"


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    values = {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]
    return values["VmRSS"] / 1024, values["VmHWM"] / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def signed_in(url: str) -> httpx.Client:
    """A client with a session of the benchmark's admin."""
    client = httpx.Client(base_url=url, timeout=3600, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert token
    client.post(
        "/signin", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    return client


def csrf(client: httpx.Client) -> str:
    """The CSRF token of the client's session."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def upload(url: str, path: Path) -> tuple[str, float]:
    """Upload through the form with a new session; (run id, seconds until the preview exists)."""
    client = signed_in(url)
    token = csrf(client)
    started = time.perf_counter()
    with path.open("rb") as stream:
        answer = client.post(
            "/upload",
            data={"csrf_token": token, "mode": "apply"},
            files={"file": (path.name, stream)},
        )
    seconds = time.perf_counter() - started
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"].rsplit("/", 1)[-1], seconds


def timed_get(client: httpx.Client, path: str) -> float:
    """Seconds for one page."""
    started = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return time.perf_counter() - started


def main() -> None:
    """Serve the app, time previews, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=10)
    args = parser.parse_args()
    out = HERE / "out"
    data, _ = ensure_input(out, args.lines, "csv")
    account = ensure_account(out, args.lines)
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    shutil.copy(account, work / "account.json")
    subprocess.run(
        [str(BATCH), "web", "user", "add", "bench", "--role", "admin", "--password-stdin"],
        input=PASSWORD,
        text=True,
        cwd=work,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [str(BATCH), "web", "--sandbox", "account.json", "--port", str(port)],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/signin", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "batch web did not start"
                time.sleep(0.2)
        print(f"{args.lines:,}-line file, app memory at start: {memory_mb(server.pid)[0]:.0f} MB")
        client = signed_in(url)
        ids = []
        for n in range(3):
            cpu = cpu_s(server.pid)
            run_id, seconds = upload(url, data)
            ids.append(run_id)
            cpu, planned_cpu = cpu_s(server.pid), cpu_s(server.pid) - cpu
            first = timed_get(client, f"/runs/{run_id}")
            print(
                f"preview {n + 1}: upload -> preview {seconds:.2f} s ({planned_cpu:.1f} s app CPU),"
                f" first page {first:.3f} s ({cpu_s(server.pid) - cpu:.3f} s app CPU)"
            )
        cpu = cpu_s(server.pid)
        other = timed_get(client, f"/runs/{ids[0]}?outcome=invalid&email=user0&page=2")
        print(f"another page, filtered: {other:.3f} s ({cpu_s(server.pid) - cpu:.3f} s app CPU)")
        rss, peak = memory_mb(server.pid)
        print(f"memory with 3 previews open: {rss:.0f} MB resident, {peak:.0f} MB peak")
        started, cpu = time.perf_counter(), cpu_s(server.pid)
        with concurrent.futures.ThreadPoolExecutor(args.concurrent) as pool:
            done = list(pool.map(lambda _: upload(url, data), range(args.concurrent)))
        wall = time.perf_counter() - started
        slowest = max(seconds for _, seconds in done)
        rss, peak = memory_mb(server.pid)
        print(
            f"{args.concurrent} concurrent uploads: {wall:.1f} s wall (slowest {slowest:.1f} s,"
            f" {cpu_s(server.pid) - cpu:.0f} s app CPU), {rss:.0f} MB resident after,"
            f" {peak:.0f} MB peak"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a preview still being made: no need to wait for it
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
