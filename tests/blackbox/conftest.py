import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from srvtest import Server  # noqa: E402


@pytest.fixture
def echo():
    with Server("--builtin", "echo") as s:
        yield s


@pytest.fixture
def app():
    """The test app (echo for unknown paths)."""
    with Server("--builtin", "test") as s:
        yield s


@pytest.fixture(scope="module")
def shared_echo():
    """One echo server for a module's read-only checks."""
    with Server("--builtin", "echo") as s:
        yield s
