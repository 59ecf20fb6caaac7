"""The websocket server: the page, its ``/ws`` endpoint and the wiring of a live session."""
