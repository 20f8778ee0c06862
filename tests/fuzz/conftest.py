"""Fuzz tests share the chaos tests' `chaos_known_failure` marker and its default deselection."""

from tests.chaos.conftest import pytest_collection_modifyitems, pytest_configure

__all__ = ["pytest_collection_modifyitems", "pytest_configure"]
