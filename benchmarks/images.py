"""What an e-mail image costs: preparing an upload, and serving it from the database.

    .venv/bin/python -m benchmarks.images [--requests 2000]

Prepares a 12 MP photo (JPEG) for a 600 and a 300 px block, a 3 MP PNG and a
20-frame animated GIF (best of three each). Then stores the photo on a fresh
PostgreSQL, starts `nurture serve` (one worker) and fetches `/img/...` over one
keep-alive connection: full answers (the bytes read from the database each time) and
revalidations (If-None-Match, answered 304 without reading the bytes).
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from PIL import Image

from benchmarks._harness import fresh_database, server, services
from campaigns.email.images import image_path, save_image
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from templates import images


def photo(width: int, height: int) -> Image.Image:
    """A gradient with some noise: compresses like a photo, not like a flat colour."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    return Image.blend(base, noise, 0.15)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def best_seconds(run: Callable[[], object], times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def fetch_rate(base: str, path: str, headers: dict[str, str], count: int) -> float:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    start = time.perf_counter()
    for _ in range(count):
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status not in (200, 304):
            raise RuntimeError(f"GET {path} answered {answer.status}")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    jpeg = encoded(photo(4000, 3000), "JPEG", quality=90)
    png = encoded(photo(2000, 1500), "PNG")
    frames = [photo(480, 270) for _ in range(20)]
    gif = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80)
    cases = {
        "jpeg_12mp_600px": (jpeg, 600),
        "jpeg_12mp_300px": (jpeg, 300),
        "png_3mp_600px": (png, 600),
        "gif_20_frames_120px": (gif, 120),
    }
    results: dict[str, float] = {}
    for name, (data, width) in cases.items():
        seconds = best_seconds(partial(images.prepare, data, width=width))
        out = images.prepare(data, width=width)
        results[f"{name}_ms"] = seconds * 1000
        print(
            f"{name:<22} {len(data) // 1024:>6} KB -> {out.width}x{out.height} "
            f"{len(out.data) // 1024:>5} KB  {seconds * 1000:8.1f} ms",
            flush=True,
        )
    stored = images.prepare(jpeg, width=600)
    with services() as found, tempfile.TemporaryDirectory() as folder:
        url = fresh_database(found.pg_admin_url, "nurture_bench_images")
        upgrade(url)
        with session_scope(url) as db:
            path = image_path(save_image(db, prepared=stored, filename="p.jpg", actor="cli").image)
        get_engine(url).dispose()
        env = {
            "NURTURE_DATABASE_URL": url,
            "NURTURE_DATA_DIR": folder,
            "NURTURE_REDIS_URL": found.redis_url,
            "NURTURE_SECRET_KEY": "benchmark-secret-" + "x" * 32,
        }
        with server(env) as base:
            fetch_rate(base, path, {}, 100)  # warm up
            results["serve_200_per_s"] = fetch_rate(base, path, {}, args.requests)
            etag = {"If-None-Match": f'"{stored.digest}"'}
            results["serve_304_per_s"] = fetch_rate(base, path, etag, args.requests)
    print(f"served {len(stored.data) // 1024} KB image from PostgreSQL, one worker, one connection")
    figures = " ".join(f"{key}={value:.0f}" for key, value in results.items())
    print(f"RESULT {figures}")


if __name__ == "__main__":
    main()
