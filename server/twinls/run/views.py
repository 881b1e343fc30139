"""Run child: rich views of an object, by IPython's display protocol, without IPython.

pandas, matplotlib figures, PIL images, sympy and many more implement
``_repr_mimebundle_`` or ``_repr_html_``/``_repr_png_``/…; an editor shows
those as Jupyter would. A project adds views for its own types, in the spirit
of Glamorous Toolkit's ``gtView``: a ``_twinls_views_()`` method returning
``[{"title": ..., "mime": {type: data}} | {"title": ..., "value": obj}]``, or
methods marked with :func:`view` (no need to import twinls: any method with a
``_twinls_view_`` attribute holding its title counts). A view method returns a
mime bundle (a dict of ``type/subtype`` keys), a string (plain text), or any
object (inspectable as a child).
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar

#: IPython's ``_repr_*_`` methods and the mime type each stands for.
REPR_METHODS = (
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
)
BINARY = ("image/png", "image/jpeg", "image/gif", "application/pdf")
#: Most characters one mime entry may take (a bigger one is left out and said so).
MIME_LIMIT = 4 * 1024 * 1024

F = TypeVar("F", bound=Callable[..., Any])


def view(title: str) -> Callable[[F], F]:
    """Mark a method as a view of its object, titled ``title``."""

    def mark(fn: F) -> F:
        fn._twinls_view_ = title  # type: ignore[attr-defined]
        return fn

    return mark


def _method(obj: Any, name: str) -> Any:
    """``obj.name`` if the *type* defines it (so ``__getattr__`` objects offer nothing)."""
    if inspect.isclass(obj) or inspect.getattr_static(type(obj), name, None) is None:
        return None
    fn = getattr(obj, name, None)
    return fn if callable(fn) else None


def as_text(mime: str, data: Any) -> str | None:
    """A mime entry as text: binary types as base64, JSON as JSON."""
    if data is None:
        return None
    if isinstance(data, tuple) and len(data) == 2:  # (data, metadata)
        data = data[0]
    if mime in BINARY or isinstance(data, (bytes, bytearray)):
        if isinstance(data, str):
            return data  # already base64, as IPython allows
        return base64.b64encode(bytes(data)).decode("ascii")
    if mime == "application/json" and not isinstance(data, str):
        return json.dumps(data, default=repr)
    return data if isinstance(data, str) else str(data)


def mime_bundle(obj: Any) -> tuple[dict[str, str], list[str], list[str]]:
    """(the bundle, types left out as too big, errors) of ``obj``'s rich views."""
    bundle: dict[str, str] = {}
    errors: list[str] = []
    fn = _method(obj, "_repr_mimebundle_")
    if fn is not None:
        try:
            data = fn(include=None, exclude=None)
        except Exception as exc:
            errors.append(f"_repr_mimebundle_ failed: {exc!r}")
        else:
            if isinstance(data, tuple):
                data = data[0]
            for mime, value in (data or {}).items():
                text = as_text(str(mime), value)
                if text is not None:
                    bundle[str(mime)] = text
    for name, mime in REPR_METHODS:
        if mime in bundle:
            continue
        fn = _method(obj, name)
        if fn is None:
            continue
        try:
            text = as_text(mime, fn())
        except Exception as exc:
            errors.append(f"{name} failed: {exc!r}")
            continue
        if text is not None:
            bundle[mime] = text
    bundle.pop("text/plain", None)  # the inspector shows the repr itself
    cut = [m for m, t in bundle.items() if len(t) > MIME_LIMIT]
    for mime in cut:
        del bundle[mime]
    return bundle, cut, errors


def project_views(obj: Any) -> list[tuple[str, Any]]:
    """(title, what the view gave) for each of the project's views of ``obj``.

    What a view gave is a mime bundle (dict), a string, any object, or the
    exception it raised.
    """
    if inspect.isclass(obj):
        return []
    found: list[tuple[str, Any]] = []
    fn = _method(obj, "_twinls_views_")
    if fn is not None:
        try:
            for spec in fn() or []:
                title = str(spec.get("title", "view"))
                found.append((title, spec["mime"] if "mime" in spec else spec.get("value")))
        except Exception as exc:
            found.append(("_twinls_views_", exc))
    seen: set[str] = set()
    for klass in type(obj).__mro__:
        for name, member in vars(klass).items():
            title = getattr(member, "_twinls_view_", None)
            if not isinstance(title, str) or name in seen or not callable(member):
                continue
            seen.add(name)
            try:
                found.append((title, getattr(obj, name)()))
            except Exception as exc:
                found.append((title, exc))
    return found


def is_bundle(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and "/" in k for k in value)
    )
