"""Out of scope is 404 in the channel APIs too (issue 15, part 10; docs/api.md "HTTP API").

The channel permission classes used to answer 403 to a user outside the channel, which tells them the
forum, week or day exists. ``refuse`` is what they call instead of returning False: a user who may not
read the channel at all, or who acts on an object they cannot see, gets 404; a user who can see the
object but may not change it (a county leader) still gets 403, as in the core API.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.request import Request

NOT_FOUND = "未找到该记录，或您无权查看。"


def refuse(request: Request, view: Any, *, can_read: bool) -> bool:
    """Always refuses: raises NotFound (404) when the target is out of the user's sight, else False (403)."""
    if not can_read:
        raise NotFound(NOT_FOUND)
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    value = getattr(view, "kwargs", {}).get(lookup)
    if getattr(view, "detail", False) and value is not None:
        try:
            visible = view.get_queryset().filter(**{getattr(view, "lookup_field", "pk"): value}).exists()
        except (ValueError, TypeError):
            visible = False
        if not visible:
            raise NotFound(NOT_FOUND)
    return False
