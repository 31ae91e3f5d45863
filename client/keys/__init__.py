"""All key material: primitives, sub-keys, the passphrase vault and the batched
signature checks. Every key and id is generated here; nothing here imports the
rest of the client (only ``client.errors`` and ``schemas``).
"""
