"""The Trellis client library and CLI: one device's view of one shared space."""
