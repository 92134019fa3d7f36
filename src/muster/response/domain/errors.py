"""Errors of the response part (none beyond the core tree yet)."""
