"""The build image's files (Dockerfile and scripts), shipped inside the package as
`simulator._images` and read with importlib.resources (see pyproject.toml)."""
