"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def torch_single_thread():
    """One torch thread for the module: tests of many small element-wise ops otherwise spend
    their time in OpenMP spinning on a busy 2-core machine. Use with
    ``pytestmark = pytest.mark.usefixtures("torch_single_thread")``."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
