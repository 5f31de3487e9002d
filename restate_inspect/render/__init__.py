"""Renderers: rich text for people, NDJSON for scripts. Both read the same annotations."""
