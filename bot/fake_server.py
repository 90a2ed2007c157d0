"""A fake Telegram Bot API server on loopback, for tests and the `hotline bot --console` demo.

The real python-telegram-bot client talks to it through `base_url`, so requests, encodings and error
handling are the client's own. It records every call, hands out pushed updates through getUpdates, keeps
files for getFile and downloads, and can be told to fail the next calls of a method.
"""

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_ID = 7_000_001
MAX_MESSAGE_CHARS = 4096  # Telegram's limit for a message's text, in UTF-16 code units
MAX_CAPTION_CHARS = 1024
BOT_USERNAME = "hotline_test_bot"
SENDING_METHODS = ("sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup")


@dataclass
class Call:
    """One Bot API call the bot made: the method and its decoded parameters."""

    method: str
    params: dict[str, Any]
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[str]:
        """The labels of the reply or inline keyboard sent with the message, row by row flattened."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b["text"] if isinstance(b, dict) else str(b) for row in rows for b in row]

    def callback_data(self, label: str) -> str:
        markup = self.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                if button["text"] == label:
                    return str(button["callback_data"])
        raise KeyError(f"no inline button {label!r} in {self.buttons}")

    @property
    def message_id(self) -> int | None:
        if isinstance(self.result, dict) and "message_id" in self.result:
            return int(self.result["message_id"])
        return None

    @property
    def accepted(self) -> bool:
        """False for calls the fake was told to fail."""
        return not (isinstance(self.result, dict) and "failed" in self.result)


@dataclass
class Failure:
    remaining: int
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeState:
    token: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""


def _decode(value: str) -> Any:
    """PTB sends form fields; lists and objects arrive JSON-encoded as text."""
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _markdown_unbalanced(text: str, parse_mode: str) -> bool:
    """A rough check of what makes Telegram answer "can't parse entities": an unclosed `_`, `*` or `.

    MarkdownV2 also refuses any unescaped reserved character.
    """
    if parse_mode == "MarkdownV2":
        escaped = False
        for ch in text:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch in "_*[]()~`>#+-=|{}.!":
                return True
        return False
    return any(text.count(mark) % 2 for mark in ("_", "*", "`"))


def _refusal(method: str, params: dict[str, Any]) -> str | None:
    """The Bad Request description Telegram would give for these parameters, or None when it accepts them."""
    if method == "sendMessage":
        text = str(params.get("text") or "")
        if not text.strip():
            return "Bad Request: message text is empty"
        if _telegram_length(text) > MAX_MESSAGE_CHARS:
            return "Bad Request: message is too long"
    elif method == "sendPhoto":
        text = str(params.get("caption") or "")
        if _telegram_length(text) > MAX_CAPTION_CHARS:
            return "Bad Request: message caption is too long"
    else:
        return None
    parse_mode = str(params.get("parse_mode") or "")
    if parse_mode.startswith("Markdown") and _markdown_unbalanced(text, parse_mode):
        return "Bad Request: can't parse entities: can't find end of the entity"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeTelegram:
    """The fake server, run by uvicorn in a thread. Use as a context manager or start()/stop()."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.state = FakeState(token=token)
        self._lock = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self.on_call: Callable[[Call], None] | None = None
        self.port = _free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def start(self) -> "FakeTelegram":
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="fake-telegram")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what tests and the console use ------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._lock:
            self.state.updates.append(update)
            self._lock.notify_all()

    def add_file(self, data: bytes, size: int | None = None) -> str:
        """Store a file as if a user had uploaded it; returns its file_id. size may lie (too-large tests)."""
        file_id = f"file-{next(self._file_ids)}"
        with self._lock:
            self.state.files[file_id] = data
        return file_id

    def fail_next(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail as Telegram would (5xx, 403 blocked, 429 flood)."""
        with self._lock:
            self.state.failures[method] = Failure(times, status, description, retry_after)

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages the bot sent or edited (text and photos), optionally to one chat."""
        return [
            c
            for c in self.calls()
            if c.method in SENDING_METHODS and c.accepted and (chat_id is None or c.chat_id == chat_id)
        ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        """Block until predicate() holds after some call; an event wait, not a timed sleep."""
        with self._lock:
            if not self._lock.wait_for(predicate, timeout=timeout):
                raise AssertionError("the bot did not make the expected call in time")

    # ---- the HTTP side -----------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if "application/json" in ctype:
            body = await request.body()
            params.update(json.loads(body or b"{}"))
        elif ctype:
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    params[key] = _decode(value)
                else:  # an uploaded file (sendPhoto with bytes)
                    params[key] = f"<upload {len(await value.read())} bytes>"
        return params

    def _record(self, call: Call) -> None:
        with self._lock:
            self.state.calls.append(call)
            self._lock.notify_all()
        if self.on_call is not None:
            self.on_call(call)

    def _take_failure(self, method: str) -> Failure | None:
        with self._lock:
            failure = self.state.failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure

    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.state.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params = await self._params(request)
        refusal = _refusal(method, params)
        if refusal is not None:  # what real Telegram refuses, the fake refuses too
            self._record(Call(method, params, result={"failed": 400}))
            return JSONResponse({"ok": False, "error_code": 400, "description": refusal}, 400)
        failure = self._take_failure(method)
        if failure is not None:
            self._record(Call(method, params, result={"failed": failure.status}))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return JSONResponse(body, failure.status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, 404
            )
        result = await handler(params)
        if method != "getUpdates":
            self._record(Call(method, params, result))
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.state.token:
            return Response(status_code=401)
        file_id = request.path_params["path"].rsplit("/", 1)[-1].split(".")[0]
        data = self.state.files.get(file_id)
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="application/octet-stream")

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "12345举报", "username": BOT_USERNAME}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "chat"},
            "from": self._bot_user(),
            **extra,
        }

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 5)
        while True:
            with self._lock:
                # Like Telegram: an offset confirms (and forgets) every earlier update.
                self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                ready = list(self.state.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)  # server-side long-poll granularity, not a test timing

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(params, text=str(params.get("text", "")))

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._message(
            params,
            caption=str(params.get("caption", "")),
            photo=[{"file_id": "sent-photo", "file_unique_id": "sp", "width": 1, "height": 1}],
        )

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._message(params, text=str(params.get("text", "")), edit_date=int(time.time()))

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return self._message(params, text="", edit_date=int(time.time()))

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        data = self.state.files.get(file_id)
        if data is None:
            return {"file_id": file_id, "file_unique_id": file_id}
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(data),
            "file_path": f"photos/{file_id}.jpg",
        }

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.state.webhook_url = str(params.get("url", ""))
        self.state.webhook_secret = str(params.get("secret_token", ""))
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.state.webhook_url = ""
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True


# ---- updates as Telegram would send them -----------------------------------------------------


def _user(user_id: int, first_name: str = "市民") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "市民"}
    return {"id": chat_id, "type": "group", "title": "承办单位工作群"}


class UpdateFactory:
    """Builds update dicts with increasing ids, for one fake server."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self._message_ids = itertools.count(1)

    def message(self, user_id: int, chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        return {
            "update_id": self.fake.next_update_id(),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": _chat(chat_id if chat_id is not None else user_id),
                "from": _user(user_id),
                **content,
            },
        }

    def text(self, user_id: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.message(user_id, chat_id, **content)

    def photo(
        self, user_id: int, data: bytes, file_size: int | None = None, caption: str = ""
    ) -> dict[str, Any]:
        file_id = self.fake.add_file(data)
        size = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "width": 800,
            "height": 600,
            "file_size": file_size if file_size is not None else len(data),
        }
        content: dict[str, Any] = {"photo": [size]}
        if caption:
            content["caption"] = caption
        return self.message(user_id, **content)

    def document(self, user_id: int, data: bytes, mime_type: str, file_name: str) -> dict[str, Any]:
        file_id = self.fake.add_file(data)
        return self.message(
            user_id,
            document={
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(data),
            },
        )

    def location(self, user_id: int, latitude: float, longitude: float) -> dict[str, Any]:
        return self.message(user_id, location={"latitude": latitude, "longitude": longitude})

    def contact(self, user_id: int, phone: str, owner: int | None = None) -> dict[str, Any]:
        return self.message(
            user_id,
            contact={
                "phone_number": phone,
                "first_name": "市民",
                "user_id": owner if owner is not None else user_id,
            },
        )

    def sticker(self, user_id: int) -> dict[str, Any]:
        return self.message(
            user_id,
            sticker={
                "file_id": "stk",
                "file_unique_id": "stk",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        )

    def voice(self, user_id: int) -> dict[str, Any]:
        return self.message(user_id, voice={"file_id": "voc", "file_unique_id": "voc", "duration": 3})

    def press(self, user_id: int, call: Call, label: str, chat_id: int | None = None) -> dict[str, Any]:
        """The user presses inline button `label` under the message the bot sent in `call`."""
        chat = chat_id if chat_id is not None else (call.chat_id or user_id)
        return {
            "update_id": self.fake.next_update_id(),
            "callback_query": {
                "id": f"cq-{self.fake.next_update_id()}",
                "from": _user(user_id),
                "chat_instance": str(chat),
                "data": call.callback_data(label),
                "message": {
                    "message_id": call.message_id or 1,
                    "date": int(time.time()),
                    "chat": _chat(chat),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "12345举报"},
                    "text": call.text,
                },
            },
        }
