"""`--pdf`: the same HTML laid out by WeasyPrint (an optional extra: `mageguard[pdf]`,
which needs Debian's pango). Nothing is fetched while rendering: the page is
self-contained, and a fetcher that refuses every URL keeps it that way."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from mageguard.errors import ConfigError, MageguardError

MISSING = (
    "--pdf needs WeasyPrint: pip install 'mageguard[pdf]' (on Debian it also needs pango: "
    "apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
)


def _refuse(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise MageguardError(f"the evidence pack must not fetch {url[:80]}")


def html_to_pdf(html: str) -> bytes:
    try:
        import weasyprint  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ConfigError(MISSING) from None
    except OSError as exc:  # the Python package is there, pango is not
        raise ConfigError(f"{MISSING} ({exc})") from None
    # WeasyPrint's CSS parser warns about every SVG presentation property matplotlib writes
    # (stroke, fill...) although its SVG renderer draws them: hundreds of lines of noise.
    log = logging.getLogger("weasyprint")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf()
    finally:
        log.setLevel(level)
    return pdf
