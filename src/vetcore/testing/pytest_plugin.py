"""pytest plugin: fixtures for vetcore plugin authors."""
