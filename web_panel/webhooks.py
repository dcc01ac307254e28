"""``/webhooks/{tool}/{connection}``: adapt the HTTP request to core's receiver, and back."""

from __future__ import annotations

from aiohttp import web

from core.db.models.pm import PM_TOOLS
from core.pm.webhooks import WebhookRequest
from web_panel.keys import RECEIVER_KEY


async def receive_webhook(request: web.Request) -> web.Response:
    tool = request.match_info["tool"]
    if tool not in PM_TOOLS:
        raise web.HTTPNotFound(text="unknown tool")
    body = await request.read()
    answer = await request.app[RECEIVER_KEY].receive(
        WebhookRequest(
            tool=tool,
            connection_id=request.match_info["connection"],
            method=request.method,
            path=request.path,
            url=str(request.url),
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
        )
    )
    if request.method == "HEAD":
        return web.Response(status=answer.status, headers=answer.headers)
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)
