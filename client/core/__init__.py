"""Sans-I/O rules and state: admission and verification, the lifecycle rules
(revocation, leaving, rotation), the sync-session state machine and the integrity
findings (``integrity/``), and the decisions the I/O flows make, each a pure function
(``decisions.py``). No asyncio, sqlite, sockets, clock or randomness: time comes in as a
value. Imports only ``client.keys``, ``client.errors`` and ``schemas``.
"""
