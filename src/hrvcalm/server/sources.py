"""The sources the patient's app offers its page, and switching between them (``hrvcalm app``).

The app starts with no source (:class:`NoSource`) unless ``--source`` names one; the page
lists the :class:`Choice` values of a ``sources`` message (a virtual strap, a recording, the
simulator, and the straps a Bluetooth scan found) and sends ``choose_source`` with a choice's
``id``, or ``scan``. Only the offered choices can be opened: a page never names a file or a
device itself. Switching is allowed before a practice starts or after it ends
(:meth:`~hrvcalm.server.app.LiveSession.switch_source`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hrvcalm.devices.base import Source, SourceEvent
from hrvcalm.errors import HrvcalmError
from hrvcalm.server import messages

if TYPE_CHECKING:
    from hrvcalm.server.app import LiveSession

#: How long a scan for straps listens, s.
SCAN_S = 5.0


@dataclass(frozen=True, slots=True)
class Choice:
    """A source the page may choose.

    Attributes:
        id: What the page sends back (``virtual``, ``recording``, ``sim``, ``ble:ADDRESS``).
        label: What the patient reads.
        spec: The source spec it opens (``replay:PATH``, ``sim``, ``ble:ADDRESS`` ...).
        recording: A file played back: it plays from Start and again for each new session.
        demo: Not the patient's own heart (a recording, the simulator): stored apart.
    """

    id: str
    label: str
    spec: str
    recording: bool = False
    demo: bool = True


class NoSource(Source):
    """No source chosen yet: nothing ever comes."""

    spec = "none"
    name = "no strap chosen yet"

    async def events(self) -> AsyncIterator[SourceEvent]:
        await asyncio.Event().wait()
        return
        yield  # an async generator that never yields

    def clock_s(self) -> float:
        return 0.0


Scan = Callable[[float], Awaitable[Sequence[Any]]]


class SourceChooser:
    """The offered choices, the current one, and the Bluetooth scan.

    Args:
        choices: What is offered from the start.
        open_spec: Opens a spec (:func:`hrvcalm.devices.open_source` with the app's speed).
        scan: Lists straps nearby (objects with ``name`` and ``address``), or ``None``.
        on_switch: Called with the new choice just before the session switches to it (the
            app moves its recorder to the right store there).
    """

    def __init__(
        self,
        choices: Sequence[Choice],
        open_spec: Callable[[str], Source],
        *,
        scan: Scan | None = None,
        on_switch: Callable[[Choice], None] | None = None,
    ) -> None:
        self.choices: dict[str, Choice] = {c.id: c for c in choices}
        self._open = open_spec
        self._scan = scan
        self._on_switch = on_switch
        self.current: Choice | None = None
        self.scanning = False
        self._tasks: set[asyncio.Task[None]] = set()

    def message(self) -> messages.Message:
        """The ``sources`` message for the pages."""
        return messages.sources(
            [(c.id, c.label) for c in self.choices.values()],
            None if self.current is None else self.current.id,
            scanning=self.scanning,
            can_scan=self._scan is not None,
        )

    async def choose(self, live: LiveSession, choice_id: str) -> None:
        """Switch the session to an offered source.

        Raises:
            ValueError: Not an offered choice, a practice is running, or it cannot be opened
                (the message is sent back to the page).
        """
        choice = self.choices.get(choice_id)
        if choice is None:
            raise ValueError(f"no such source to choose: {choice_id!r}")
        live.check_can_switch()
        try:
            source = self._open(choice.spec)
        except HrvcalmError as exc:
            raise ValueError(f"cannot use {choice.label}: {exc}") from None
        if self._on_switch is not None:
            self._on_switch(choice)
        self.current = choice
        await live.switch_source(
            source,
            play_from_start=choice.recording,
            reopen_source=lambda: self._open(choice.spec),
        )
        live.hub.publish(self.message())

    def start_scan(self, live: LiveSession) -> None:
        """Look for straps in the background; the ``sources`` message lists what was found."""
        if self._scan is None:
            raise ValueError("this app cannot look for Bluetooth straps")
        if self.scanning:
            return
        task = asyncio.create_task(self._scan_into(live, self._scan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _scan_into(self, live: LiveSession, scan: Scan) -> None:
        self.scanning = True
        live.hub.publish(self.message())
        try:
            found = await scan(SCAN_S)
        except HrvcalmError as exc:
            live.hub.send_to_pages(messages.error(f"Could not look for straps: {exc}"))
            found = []
        finally:
            self.scanning = False
        for strap in found:
            address = str(strap.address)
            label = f"{strap.name or 'Heart-rate strap'} ({address})"
            spec = f"ble:{address}"
            self.choices[spec] = Choice(spec, label, spec, recording=False, demo=False)
        if not found:
            live.hub.send_to_pages(
                messages.error("No strap found nearby: is it worn, with moistened pads?")
            )
        live.hub.publish(self.message())

    async def aclose(self) -> None:
        """Stop a scan still running."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
