"""`python -m sandbox [--host H] [--port P]`: serve every vendor's emulation until stopped."""

from __future__ import annotations

import argparse
import contextlib

from sandbox import make_server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind, 0 for any free port (default 8765)")
    args = parser.parse_args()
    server = make_server(args.host, args.port)
    vendors = ", ".join(f"{server.url}/{prefix}" for prefix in server.emulators)
    print(f"sandbox serving {vendors}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
