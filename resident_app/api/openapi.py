"""GET /api/v1/openapi.json: the document describing every JSON endpoint (web.openapi builds it)."""
from flask import current_app, jsonify

from ..web.openapi import document, ok, operation
from . import bp

OPENAPI_DOCUMENT = {"type": "object", "required": ["openapi", "info", "paths", "components"]}


@bp.get("/openapi.json")
@operation("This OpenAPI document", tags=("open data",), responses={
    200: ok("OpenAPI 3.1: every JSON endpoint with its request and response schemas", OPENAPI_DOCUMENT)})
def openapi_document():
    """Built from the routes and their declarations, so it lists exactly what this server answers."""
    response = jsonify(document(current_app))
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site or tool may read it
    return response
