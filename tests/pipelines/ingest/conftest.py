"""The store fixtures of tests/store, for ingest's tests."""

from tests.store.conftest import store, store_url

__all__ = ["store", "store_url"]
