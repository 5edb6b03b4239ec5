"""The NinjaAPI instance: /api/v1/, its auth, its problem+json errors and its OpenAPI 3.1 document."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Swagger

from api.auth import BearerAuth, SessionAuth
from api.body import BoundedParser
from api.exchange import openapi_components
from api.problems import CONTENT_TYPE, install_handlers
from api.routers import analytics, batches, catalog, meta, webhooks
from api.routers import automations as automations_router
from api.routers import calendars as calendar_routes
from api.routers import planner as planner_router
from api.routers import restrictions as restrictions_router  # noqa: F401 - POST /restrictions on catalog's router


class HockeyHubAPI(NinjaAPI):
    _schema_cache: Any = None

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """The document, built once per process: the exchange format's models are the request bodies,
        and error answers are documented as application/problem+json, as they are sent."""
        if self._schema_cache is None:
            self._schema_cache = self._build_schema(*args, **kwargs)
        return self._schema_cache

    def _build_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        exchange = openapi_components()
        clash = set(exchange) & set(schemas)
        if clash:
            raise RuntimeError(f"exchange-format schema names clash with API schemas: {sorted(clash)}")
        schemas.update(exchange)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        response["content"] = {CONTENT_TYPE: content["application/json"]}
        return schema


api = HockeyHubAPI(
    title="HockeyHub Batch API",
    version="1",
    description=(
        "Batches of workout operations for a club's other systems. Authenticate with a personal API "
        "token (`Authorization: Bearer hh_…`, created on the API tokens page) or a browser session "
        "(writes need the X-CSRFToken header). Errors are RFC 9457 problem details. See docs/api.md."
    ),
    urls_namespace="api-v1",
    auth=[BearerAuth(), SessionAuth()],
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    parser=BoundedParser(),
    openapi_url="/openapi.json",
)
install_handlers(api)
api.add_router("/batches", batches.router)
api.add_router("", catalog.router)
api.add_router("", webhooks.router)
api.add_router("", meta.router)
api.add_router("", calendar_routes.router)
api.add_router("/planner", planner_router.router)
api.add_router("", automations_router.router)
api.add_router("", analytics.router)
