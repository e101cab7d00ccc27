"""The ``digitkit web`` subcommand (argparse only; the build and the server are imported when it runs)."""

from __future__ import annotations

import argparse

from digitkit.runtime.arguments import int_range


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "web",
        help="the model in a web page: draw a digit in the browser (onnxruntime-web, WebAssembly)",
        description="Serve the page of web/ on this machine: a canvas to draw on, read by the shipped model in the "
        "browser. `make web` installs onnxruntime-web (npm ci) and builds web/dist; this command rebuilds it "
        "when its sources are newer.",
    )
    p.add_argument(
        "--port", type=int_range(0, 65535), default=8765, help="port to serve on (default 8765; 0 picks a free one)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--build", action="store_true", help="build web/dist and exit, without serving")
    p.set_defaults(handler=_web)


def _web(args: argparse.Namespace) -> int:
    from digitkit.runtime import webpage

    if args.build:
        dist = webpage.build()
        print(f"built {dist} ({webpage.describe(dist)})")
        return 0
    dist = webpage.prepared()
    server = webpage.make_server(dist, args.port, args.host)
    print(f"serving {dist} ({webpage.describe(dist)}) at {webpage.address(server)} (Ctrl-C stops)", flush=True)
    with server:
        server.serve_forever()
    return 0
