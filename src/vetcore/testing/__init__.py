"""Test helpers for vetcore plugin authors (synthetic stamps, fixtures)."""
