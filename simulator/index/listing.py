"""One project page of a package index, as pip reads it: PEP 691 JSON or PEP 503 HTML.

The one parser of such pages: the fix checker (`client.PackageIndex`) and the stand-in index of
`check` both read pages with `parse_listing`.

`parse_listing` turns a page into `IndexFile`s with absolute URLs and the fields pip uses
(Requires-Python, yanked, hashes, PEP 658 metadata); `IndexFile.to_json` writes one back into a
PEP 691 page.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


@dataclass(frozen=True)
class DistFile:
    """One file of a release: its name, its Requires-Python, whether it is yanked, its URL."""

    filename: str
    requires_python: str | None = None
    yanked: bool = False
    url: str | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


class AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._attrs is not None:
            self.anchors.append((self._attrs, "".join(self._text).strip()))
            self._attrs = None


@dataclass(frozen=True)
class IndexFile:
    """One file of a simple-index listing, with the fields pip uses."""

    filename: str
    url: str
    requires_python: str | None = None
    yanked: bool | str = False
    hashes: Mapping[str, str] = field(default_factory=dict)
    metadata: bool | Mapping[str, str] = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def dist(self) -> DistFile:
        return DistFile(self.filename, self.requires_python, bool(self.yanked), self.url)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filename": self.filename,
            "url": self.url,
            "hashes": dict(self.hashes),
        }
        if self.requires_python:
            data["requires-python"] = self.requires_python
        if self.yanked:
            data["yanked"] = self.yanked
        if self.metadata:
            value = dict(self.metadata) if isinstance(self.metadata, Mapping) else True
            data["core-metadata"] = value
            data["dist-info-metadata"] = value
        return data


def parse_listing(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """A PEP 691 JSON or PEP 503 HTML project page as `IndexFile`s with absolute URLs."""
    files = []
    if "json" in content_type:
        data = json.loads(body)
        for item in data.get("files", []):
            if not isinstance(item, dict):
                continue
            advertised = item.get("core-metadata", item.get("dist-info-metadata", False))
            files.append(
                IndexFile(
                    filename=str(item.get("filename", "")),
                    url=_absolute(page_url, str(item.get("url", ""))),
                    requires_python=item.get("requires-python"),
                    yanked=item.get("yanked") or False,
                    hashes=item.get("hashes") or {},
                    metadata=advertised if isinstance(advertised, (bool, dict)) else False,
                )
            )
        return files
    parser = AnchorParser()
    parser.feed(body.decode("utf-8", "replace"))
    for attrs, text in parser.anchors:
        href = attrs.get("href") or ""
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        metadata: bool | dict[str, str] = False
        if metadata_attr is not None:
            metadata = dict([metadata_attr.split("=", 1)]) if "=" in metadata_attr else True
        yanked_attr = attrs.get("data-yanked")
        files.append(
            IndexFile(
                filename=text or urllib.parse.unquote(url.rsplit("/", 1)[-1]),
                url=url,
                requires_python=attrs.get("data-requires-python"),
                yanked=(yanked_attr or True) if "data-yanked" in attrs else False,
                hashes=hashes,
                metadata=metadata,
            )
        )
    return files


def _absolute(page_url: str, url: str) -> str:
    """`url` made absolute against the page (most pages list absolute URLs already: urljoin
    costs a tenth of a second on a project with 5,000 files)."""
    return url if url.startswith(("https://", "http://")) else urllib.parse.urljoin(page_url, url)
