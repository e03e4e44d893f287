"""`POST /api/v1/deploys`: the client's CI reports a deploy with its token; the smoke test follows."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.ratelimits import api_limited
from monitoring.deploys import deploy_record, token_check

LIMITS = {"version": 100, "commit": 64, "environment": 40}


@csrf_exempt  # authenticated by its bearer token, never by a cookie
@require_POST
def deploys(request: HttpRequest) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    value = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    # Counted per token (its public prefix, never the secret part) and per address, before any lookup.
    parts = value.split("_")
    if limited := api_limited(request, parts[1] if len(parts) > 1 else ""):
        return limited
    token = token_check(value) if value else None
    if token is None:
        return JsonResponse({"error": "missing, unknown or revoked token"}, status=401)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"error": "the body must be a JSON object"}, status=400)
    values = {}
    for field, limit in LIMITS.items():
        value = body.get(field, "")
        if not isinstance(value, str) or len(value) > limit:
            return JsonResponse({"error": f"{field} must be text of at most {limit} characters"}, status=400)
        values[field] = value.strip()
    if not values["version"] and not values["commit"]:
        return JsonResponse({"error": "give a version or a commit"}, status=400)
    deploy = deploy_record(token=token, **values)
    return JsonResponse(
        {"deploy": str(deploy.code), "client": token.client.name, "smoke_test": deploy.smoke}, status=201
    )
