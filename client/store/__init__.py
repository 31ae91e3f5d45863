"""I/O the client owns: the device's SQLite file (and the relay record kept in it)
and the two relay transports (websocket sync, HTTP). Imports ``client.core``
and below, never the views, exports or the Space.
"""
