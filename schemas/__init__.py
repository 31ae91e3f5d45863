"""The Trellis contract: wire types, envelope, payloads and error codes.

Pure by design: nothing here performs I/O, opens sockets or touches a database, so the
relay (``server``) and the client (``client``) can both depend on it and a client in
another language can be written from it and docs/PROTOCOL.md alone.
"""

PROTOCOL_VERSION = 2
"""Version of the relay protocol and of the envelope layout (docs/PROTOCOL.md §1). Version 2
brought the envelope's key commitment; a version 1 client is refused at ``Hello``."""
