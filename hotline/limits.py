"""Refuse oversized request bodies before they are read (HTTP 413 with a Chinese message)."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from triage.errors import PayloadTooLarge


class BodySizeLimit:
    """Pure ASGI middleware: JSON bodies up to `json_limit`, multipart uploads up to `upload_limit`.

    A declared Content-Length over the limit is refused at once; a body streamed without one is
    counted as it arrives and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.upload_limit if content_type.startswith("multipart/") else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive():  # type: ignore[no-untyped-def]
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(self._message(limit), "too_large")
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    def _message(limit: int) -> str:
        return f"提交的内容过大（上限{limit // (1024 * 1024)}MB）"

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {"error": "too_large", "message": self._message(limit)}, ensure_ascii=False
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
