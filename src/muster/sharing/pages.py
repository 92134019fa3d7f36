"""Web pages of the sharing part (R13). Imported by ``web.app``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["sharing pages"])

__all__ = ["router"]
