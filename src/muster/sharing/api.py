"""HTTP API of the sharing part (R13). Imported by ``web.app``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["sharing"])

__all__ = ["router"]
