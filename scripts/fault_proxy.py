"""A TCP proxy on loopback that breaks connections on purpose, between the sync daemon and the
district server (DESIGN section 10).

Modes, per connection: ``pass``; ``reset`` (the connection is reset before the request reaches
the server); ``drop_reply`` (the request reaches the server, which commits and answers; the answer
is thrown away and the connection reset); ``delay`` (every chunk waits ``delay`` seconds);
``slice`` (bytes trickle through in chunks of ``slice_bytes``); ``throttle`` (at most
``bytes_per_second`` each way). A queue of one-shot faults applies to the next connections, then
the default mode. Every byte that goes upstream (what leaves the device) can be captured to a
file, for searching. Use it with a client that opens a new connection per request
(``classlog sync --fresh-connections``): keep-alive would reuse one connection and hide faults.

In tests: ``with ProxyThread(target_port) as proxy: proxy.push_fault("drop_reply")``.
From the shell: ``python scripts/fault_proxy.py --target 127.0.0.1:8000 --mode delay
--delay 0.5 --capture sent.bin`` prints ``listening on 127.0.0.1:PORT`` and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

MODES = ("pass", "reset", "drop_reply", "delay", "slice", "throttle")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
CHUNK = 65536


@dataclass
class Settings:
    mode: str = "pass"
    delay: float = 0.2
    slice_bytes: int = 7
    bytes_per_second: int = 50_000


@dataclass
class Stats:
    connections: int = 0
    faults_applied: dict[str, int] = field(default_factory=dict)
    upstream_bytes: int = 0


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a dying network does, not with a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """The proxy itself, on the running event loop."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        capture: Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        if listen_host not in LOOPBACK or target_host not in LOOPBACK:
            raise ValueError("the fault proxy listens and connects on loopback only")
        self.target = (target_host, target_port)
        self.listen = (listen_host, listen_port)
        self.settings = settings or Settings()
        self.faults: list[str] = []
        self.stats = Stats()
        self.capture_path = capture
        self._capture = capture.open("ab") if capture else None
        self._lock = threading.Lock()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def push_fault(self, mode: str, count: int = 1) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self.faults.extend([mode] * count)

    def set_mode(self, mode: str, **values: float) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self.settings.mode = mode
            for name, value in values.items():
                setattr(self.settings, name, type(getattr(self.settings, name))(value))

    def _next_mode(self) -> str:
        with self._lock:
            return self.faults.pop(0) if self.faults else self.settings.mode

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, *self.listen)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    def _record(self, data: bytes) -> None:
        self.stats.upstream_bytes += len(data)
        if self._capture is not None:
            self._capture.write(data)
            self._capture.flush()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._relay(client_reader, client)
        except asyncio.CancelledError:
            client.transport.abort()
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _relay(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        mode = self._next_mode()
        self.stats.connections += 1
        if mode != "pass":
            self.stats.faults_applied[mode] = self.stats.faults_applied.get(mode, 0) + 1
        if mode == "reset":
            _reset(client)
            return
        try:
            server_reader, server = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client)
            return
        upstream = asyncio.create_task(self._pump(client_reader, server, mode, upstream=True))
        pumps = {upstream}
        try:
            if mode == "drop_reply":
                first = await server_reader.read(CHUNK)
                with contextlib.suppress(Exception):
                    while first:
                        first = await asyncio.wait_for(server_reader.read(CHUNK), 0.2)
                _reset(client)
                return
            pumps.add(asyncio.create_task(self._pump(server_reader, client, mode, upstream=False)))
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            server.transport.abort()
            client.transport.abort()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        mode: str,
        *,
        upstream: bool,
    ) -> None:
        settings = self.settings
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    with contextlib.suppress(Exception):
                        writer.write_eof()
                    return
                if upstream:
                    self._record(data)
                if mode == "delay":
                    await asyncio.sleep(settings.delay)
                if mode == "slice":
                    for start in range(0, len(data), settings.slice_bytes):
                        writer.write(data[start : start + settings.slice_bytes])
                        await writer.drain()
                        await asyncio.sleep(0.001)
                    continue
                if mode == "throttle":
                    for start in range(0, len(data), 4096):
                        part = data[start : start + 4096]
                        writer.write(part)
                        await writer.drain()
                        await asyncio.sleep(len(part) / settings.bytes_per_second)
                    continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            return


class ProxyThread:
    """A ``FaultProxy`` on its own event loop in a background thread, for synchronous tests."""

    def __init__(self, target_port: int, *, capture: Path | None = None, **settings: float) -> None:
        self.proxy = FaultProxy("127.0.0.1", target_port, capture=capture)
        for name, value in settings.items():
            setattr(self.proxy.settings, name, value)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"

    def push_fault(self, mode: str, count: int = 1) -> None:
        self.proxy.push_fault(mode, count)

    def set_mode(self, mode: str, **values: float) -> None:
        self.proxy.set_mode(mode, **values)

    def start(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _serve(args: argparse.Namespace) -> None:
    host, port = _address(args.target)
    listen_host, listen_port = _address(args.listen)
    proxy = FaultProxy(
        host,
        port,
        listen_host=listen_host,
        listen_port=listen_port,
        capture=args.capture,
        settings=Settings(args.mode, args.delay, args.slice_bytes, args.bytes_per_second),
    )
    for fault in args.fault or []:
        proxy.push_fault(fault)
    bound = await proxy.start()
    print(f"listening on {listen_host}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await proxy.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT of the server (loopback)")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on")
    parser.add_argument("--mode", choices=MODES, default="pass", help="the default mode")
    parser.add_argument("--fault", action="append", choices=MODES, help="a one-shot fault")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds, for delay")
    parser.add_argument("--slice-bytes", type=int, default=7, help="chunk size, for slice")
    parser.add_argument("--bytes-per-second", type=int, default=50_000, help="for throttle")
    parser.add_argument("--capture", type=Path, help="append every upstream byte to this file")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    except ValueError as error:
        print(f"fault_proxy: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
