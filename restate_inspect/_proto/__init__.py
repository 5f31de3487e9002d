"""Code generated from proto/protocol.proto by scripts/regen_proto.py. Never edit by hand."""
