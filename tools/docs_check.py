"""Open the built documentation site in headless Chromium and check it (``make docs-check``).

Serves ``--site`` (the output of ``make docs``) on a local port, drives the system's
Chromium through Playwright (``executable_path``, so Playwright downloads no browser), and
checks that:

- the home page, a user guide and an API page render, each with its expected heading;
- the search box finds ``q-learning``;
- no page logs a console error or raises an uncaught exception.

Screenshots of each page and of the search results go to ``--out``. Exits 1 with a list
of what failed, 0 when everything passed. Not part of ``make test``: it needs a browser.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

# (path under the site, heading text expected in its <h1>, screenshot name)
PAGES = [
    ("", "groundup", "home.png"),
    ("guides/rl-tabular/", "Reinforcement learning: agents and environments", "guide-rl-tabular.png"),
    ("reference/agents/", "groundup.agents", "reference-agents.png"),
]
SEARCH_TERM = "q-learning"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser(explicit: str | None) -> str:
    """The Chromium executable: ``--browser``, else the first of ``BROWSERS`` on the PATH."""
    for name in ([explicit] if explicit else BROWSERS):
        path = shutil.which(name) if name else None
        if path:
            return path
    raise SystemExit(f"no Chromium found (tried {explicit or ', '.join(BROWSERS)}); "
                     "`make docs-check` installs Debian's chromium with apt-get")


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``site`` on a free local port, in a daemon thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # the check prints its own report
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def check(site: Path, out: Path, browser: str) -> list[str]:
    """Run every check; returns the failures (empty when all passed)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright  # the [docs-check] extra

    out.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    failures: list[str] = []
    console_errors: list[str] = []
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=browser, headless=True, args=["--no-sandbox"])
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: msg.type == "error" and console_errors.append(f"{page.url}: {msg.text}"))
            page.on("pageerror", lambda exc: console_errors.append(f"{page.url}: uncaught {exc}"))
            for path, heading, shot in PAGES:
                response = page.goto(base + path, wait_until="networkidle")
                status = response.status if response else None
                h1 = page.locator("article h1").first
                text = h1.inner_text().strip() if h1.count() else ""
                page.screenshot(path=str(out / shot), full_page=False)
                ok = status == 200 and heading.lower() in text.lower()
                print(f"{'ok  ' if ok else 'FAIL'} /{path}: HTTP {status}, h1 {text!r} -> {out / shot}")
                if not ok:
                    failures.append(f"/{path}: expected HTTP 200 and an h1 containing {heading!r}; got {status}, {text!r}")
            # Material's search: open the box, type, wait for the results list
            page.goto(base, wait_until="networkidle")
            page.locator("label.md-search__icon, .md-search__input").first.click()
            # the worker builds the index first ("Initializing search"); a query typed before
            # it is ready fails inside lunr, and a large site takes seconds to index
            meta = page.locator(".md-search-result__meta")
            try:
                page.wait_for_function("el => !/initializ/i.test(el.textContent)", arg=meta.element_handle(), timeout=60_000)
            except PlaywrightTimeout:
                failures.append("the search index was not ready after 60 s")
            page.locator("input.md-search__input").press_sequentially(SEARCH_TERM, delay=50)
            results = page.locator("li.md-search-result__item")
            try:
                results.first.wait_for(timeout=15_000)
            except PlaywrightTimeout:
                pass  # reported below as no results
            n = results.count()
            titles = [results.nth(i).inner_text().split("\n")[0] for i in range(min(n, 5))]
            page.screenshot(path=str(out / "search-q-learning.png"))
            print(f"{'ok  ' if n else 'FAIL'} search {SEARCH_TERM!r}: {n} results, first {titles}")
            if not n:
                failures.append(f"search for {SEARCH_TERM!r} found nothing")
            chromium.close()
    finally:
        server.shutdown()
    print(f"{'ok  ' if not console_errors else 'FAIL'} console errors: {len(console_errors)}")
    failures += [f"console error: {e}" for e in console_errors]
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="the built site (default: site)")
    parser.add_argument("--out", type=Path, default=Path("site-check"), help="screenshots folder (default: site-check)")
    parser.add_argument("--browser", default=None, help="Chromium executable (default: chromium on the PATH)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"--site {args.site}: no index.html; run `make docs` first")
    failures = check(args.site, args.out, find_browser(args.browser))
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("docs-check:", "passed" if not failures else f"{len(failures)} failed", f"(screenshots in {args.out})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
