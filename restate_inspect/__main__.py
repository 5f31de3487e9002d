"""`python -m restate_inspect`."""

from restate_inspect.cli import main

main()
