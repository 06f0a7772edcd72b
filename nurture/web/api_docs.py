"""The API's description at /schema: the OpenAPI document and a Swagger UI that works offline.

Litestar's viewers load their scripts from a CDN and start them with an inline
script; our pages allow neither (see security_headers.py). This viewer takes
Swagger UI from our own static files (swagger-ui-dist, installed from
package.json like htmx) and starts it from a script file.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)

SWAGGER_STATIC = "/static/vendor/swagger"
STARTER_SCRIPT = "/static/app/swagger-start.js"
FAVICON = "<link rel='icon' type='image/svg+xml' href='/static/app/favicon.svg'>"


class OfflineSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI from our static files, reading the document from openapi.json."""

    def __init__(self, *, path: list[str]) -> None:
        super().__init__(
            js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
            # Not loaded: the page uses the bundle's own layout; set so nothing points at a CDN.
            standalone_preset_js_url=f"{SWAGGER_STATIC}/swagger-ui-standalone-preset.js",
            path=path,
            favicon=FAVICON,
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link rel="stylesheet" href="{self.css_url}">
  <script src="{self.js_url}" defer></script>
  <script src="{STARTER_SCRIPT}" defer></script>
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}"></div>
</body>
</html>
""".encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """/schema and /schema/swagger show the viewer; the document as JSON and YAML."""
    return [
        OfflineSwaggerPlugin(path=["/", "/swagger"]),
        JsonRenderPlugin(path="/openapi.json"),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"]),
    ]
