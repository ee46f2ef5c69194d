"""The benchmarks' baseline: a bare Falcon ASGI endpoint that reads the body and answers {"ok":true}.

Served by uvicorn with exactly the settings of app.py's serve(), so the service's figures can be
read as a share of what Falcon and uvicorn alone do on the same machine in the same run.

    python bench/bare_app.py [--host 127.0.0.1] [--port 8001]      POST / -> {"ok":true}
"""

from __future__ import annotations

import argparse
import sys

import falcon.asgi


class Bare:
    async def on_post(self, req, resp):
        await req.stream.read()
        resp.media = {"ok": True}


def create_app() -> falcon.asgi.App:
    app = falcon.asgi.App()
    app.add_route("/", Bare())
    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bare_app.py", description="Bare Falcon endpoint for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(  # the same settings as app.py serve(); uvloop and httptools are picked up when installed
        create_app(),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
