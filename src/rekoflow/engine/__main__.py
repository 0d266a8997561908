"""`python -m rekoflow.engine [--host H] [--port N]`."""

from __future__ import annotations

import argparse
import logging

from rekoflow.engine.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rekoflow.engine", description="Serve the local Rekognition engine."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4598, help="port to listen on (default 4598)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
