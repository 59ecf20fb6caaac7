"""The sans-I/O core: bytes and beat intervals in, beats and metrics out.

Nothing in this package touches asyncio, sockets, files or the clock: time is always an
argument. The live session, replay, offline analysis and the tests run this one implementation.
"""
