"""The registry relay: inside every host, 127.0.0.1:<port> forwards to the root namespace's
127.0.0.1:<port> (the stack registry), so every host's engine pulls from "127.0.0.1:5000" as the
stack's does (Docker trusts a loopback registry over plain HTTP).

python -m totem_cluster.relay --port 5000 /run/netns/totem-h1 /run/netns/totem-h2 ...

The listening sockets are opened inside each namespace (setns in the main thread, before any other
thread exists), then the process returns to the root namespace, where every forwarded connection
is made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import signal
import socket
import sys

from totem_cluster import network

LOOPBACK = "127.0.0.1"


def command(paths: list[str], port: int) -> list[str]:
    return [sys.executable, "-m", "totem_cluster.relay", "--port", str(port), *paths]


def listening(paths: list[str], port: int) -> bool:
    """Something accepts on 127.0.0.1:<port> inside every namespace of `paths`."""

    def accepts() -> bool:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return True
        except OSError:
            return False

    return all(network.call_in(path, accepts) for path in paths)


def listen_in(paths: list[str], port: int) -> list[socket.socket]:
    root = os.open("/proc/self/ns/net", os.O_RDONLY)  # the way back, opened before leaving
    sockets = []
    try:
        for path in paths:
            network.enter(path)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, port))
            sock.listen(128)
            sock.setblocking(False)
            sockets.append(sock)
    finally:
        network.setns(root)
        os.close(root)
    return sockets


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()


async def _forward(port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, port)
    except OSError:
        writer.close()
        return
    try:
        await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
    finally:
        for stream in (writer, upstream_writer):
            stream.close()


async def serve(sockets: list[socket.socket], port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    handler = functools.partial(_forward, port)
    servers = [await asyncio.start_server(handler, sock=sock) for sock in sockets]
    print(f"relay: {LOOPBACK}:{port} in {len(servers)} namespaces -> {LOOPBACK}:{port}", flush=True)
    await stop.wait()
    for server in servers:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m totem_cluster.relay", description=__doc__)
    parser.add_argument("--port", type=int, default=5000, help="port forwarded (5000)")
    parser.add_argument("netns", nargs="+", help="paths of the network namespaces, /run/netns/<name>")
    args = parser.parse_args(argv)
    sockets = listen_in(args.netns, args.port)
    asyncio.run(serve(sockets, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
