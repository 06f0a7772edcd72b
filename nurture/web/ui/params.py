"""Parameter types and dependencies shared by the UI handlers."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from nurture.web.auth import Principal

# Name the parameter `db` / `principal`: the dependency is found by its name.
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
# A posted HTML form; every value arrives as text.
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
