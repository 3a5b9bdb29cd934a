"""render-sim: reproduce Render.com's native Python build in Docker and diagnose it."""

__version__ = "0.1.0"
