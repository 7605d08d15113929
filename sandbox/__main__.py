"""`python -m sandbox [--host H | --public] [--port P]`: serve every vendor's emulation until stopped."""

from __future__ import annotations

import argparse
import contextlib
import socket

from sandbox import make_server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind, 0 for any free port (default 8765)")
    parser.add_argument(
        "--public",
        action="store_true",
        help="bind every interface and announce this machine's own address, for a Docker container action that cannot reach 127.0.0.1",
    )
    args = parser.parse_args()
    server = make_server("0.0.0.0" if args.public else args.host, args.port)
    base = f"http://{primary_address()}:{server.server_address[1]}" if args.public else server.url
    vendors = ", ".join(f"{base}/{prefix}" for prefix in server.emulators)
    print(f"sandbox serving {vendors}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def primary_address() -> str:
    """The address other containers on this machine reach it at (no packet is sent: connecting a UDP socket picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        return str(probe.getsockname()[0])


if __name__ == "__main__":
    main()
