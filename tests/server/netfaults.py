"""A loopback TCP proxy that delays every chunk and can cut its connections, for relay tests.

``DelayProxy(target_port, delay_s)`` forwards each chunk after ``delay_s`` (in order), so
frames are in flight when :meth:`DelayProxy.cut` aborts every open connection (both ends
see a reset, as when a Wi-Fi link drops).
"""

from __future__ import annotations

import asyncio
import contextlib


class DelayProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port`` with a one-way delay."""

    def __init__(self, target_port: int, delay_s: float) -> None:
        self.target_port = target_port
        self.delay_s = delay_s
        self.port = 0
        self.cuts = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DelayProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def open(self) -> bool:
        """A connection is being forwarded."""
        return bool(self._writers)

    def cut(self) -> None:
        """Abort every open connection (both sides get a reset; data in flight is lost)."""
        self.cuts += 1
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, (writer, up_writer)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                if dst.transport.is_closing():
                    return
                dst.write(data)
            if not dst.transport.is_closing():
                await dst.drain()
                dst.close()

        delivery = asyncio.create_task(deliver())
        try:
            while data := await src.read(65536):
                queue.put_nowait((loop.time() + self.delay_s, data))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((loop.time() + self.delay_s, b""))
        with contextlib.suppress(ConnectionError, OSError):
            await delivery
        for writer in pair:
            self._writers.discard(writer)
            writer.close()


async def reset_during_handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A server that accepts, reads the handshake request and resets the connection."""
    with contextlib.suppress(ConnectionError, OSError):
        await reader.readuntil(b"\r\n\r\n")
    writer.transport.abort()
