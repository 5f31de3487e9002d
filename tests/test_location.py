"""Where records come from: a direction and its words, and a stream's printed name."""

from __future__ import annotations

from restate_inspect.location import Direction, StreamKey

RUNTIME, SDK = Direction.RUNTIME_TO_SDK, Direction.SDK_TO_RUNTIME


def test_each_direction_names_its_body_sender_and_the_other() -> None:
    assert (RUNTIME.body, RUNTIME.sender, RUNTIME.arrow) == ("request", "the runtime", "→")
    assert (SDK.body, SDK.sender, SDK.arrow) == ("response", "the SDK", "←")
    assert (RUNTIME.label, SDK.label) == ("runtime → SDK", "SDK → runtime")
    assert (RUNTIME.other, SDK.other) == (SDK, RUNTIME)


def test_a_stream_prints_as_its_source_and_exchange() -> None:
    assert str(StreamKey("tcp1", "s3")) == "tcp1/s3"
    assert str(StreamKey("call.bin")) == "call.bin"
    assert StreamKey("tcp1", "s3") != StreamKey("tcp1", "s5")
