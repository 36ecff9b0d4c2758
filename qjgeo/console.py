"""Console text that survives any console: the one place that knows about Windows code pages.

控制台输出：在 Windows 的 GBK（cp936）控制台上也不会因个别字符而崩溃。

On Linux and macOS the console takes UTF-8. On Windows an interactive console takes any text
(Python writes it as UTF-16, PEP 528), but output redirected to a file or a pipe is encoded in
the console's code page, on a Chinese Windows GBK (cp936): a character GBK lacks (an emoji, a
rare symbol) would stop the command with ``UnicodeEncodeError`` half-way through its output.
:func:`configure_console` keeps each stream's encoding where the platform chose it and makes
characters the encoding lacks come out as ``?`` instead. This cannot be tested on a real
Windows console here; the tests run it on streams that encode as GBK.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

__all__ = ["configure_console", "stream_settings"]


def stream_settings(platform: str, encoding: str | None) -> tuple[str, str]:
    """The encoding and error handler a console stream should use.

    Parameters
    ----------
    platform : str
        ``sys.platform`` (``"win32"``, ``"linux"``, ``"darwin"`` …).
    encoding : str or None
        The stream's encoding as Python opened it.

    Returns
    -------
    tuple of str
        ``(encoding, errors)``: UTF-8 outside Windows (a POSIX locale that says ASCII is a
        misconfigured one); on Windows the stream's own encoding (the console's code page,
        e.g. ``gbk``, which the programs reading a redirected output expect). ``errors`` is
        always ``"replace"``.
    """
    if platform == "win32" and encoding:
        return encoding, "replace"
    return "utf-8", "replace"


def configure_console(*streams: TextIO) -> None:
    """Set ``sys.stdout`` and ``sys.stderr`` (or the given streams) to :func:`stream_settings`.

    Parameters
    ----------
    *streams : TextIO
        Streams to configure (default: ``sys.stdout`` and ``sys.stderr``). Streams that cannot
        be reconfigured (a test's capture buffer) are left alone.
    """
    for stream in streams or (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            encoding, errors = stream_settings(sys.platform, stream.encoding)
            stream.reconfigure(encoding=encoding, errors=errors)
