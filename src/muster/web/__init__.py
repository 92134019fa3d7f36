"""The web edge: FastAPI app, pages, API routers, sessions and the live feed.

Entry points are ``muster.web.app.create_app`` and ``muster.web.server.serve``.
"""
