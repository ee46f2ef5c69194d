"""Fake platform APIs and network parts for the tests: real servers on loopback."""
