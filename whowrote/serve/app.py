"""`whowrote serve`: the judge over HTTP (FastAPI + uvicorn), and a web page at `/`.

    POST /score    {"text": "..."} or {"texts": [...], "ids": [...]}  -> {"results": [judge --json objects]}
    POST /explain  {"text": "...", "label": null, "top": 8}          -> the score and the words for and against
    POST /rolling  {"text": "...", "window": null, "stride": null, "smooth_k": 3, "edge": "shrink", "among": null}
    GET  /health, GET /model (labels, seq_len, temperature, open set, the run's report numbers)
    GET  /docs     OpenAPI documentation;  GET /  the web page (works offline)

The model is loaded once and used by one worker thread only, so concurrent requests are
safe. Texts of /score requests that arrive together are scored in one model call: a batch
closes when requests stop coming for 3 ms, or after `batch_wait_ms` (20). A request over `max_bytes` gets 413, bad JSON or an empty text 422, a
request not answered within `timeout_s` 504; the server keeps serving.

    whowrote serve --model runs/authors-20261127-120000 --port 8000
    curl -s localhost:8000/score -H 'content-type: application/json' -d '{"text": "Once upon a midnight dreary"}'
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, field_validator, model_validator

from ..layout import RunFiles, read_json
from ..smooth import EDGES

MAX_BYTES = 1_000_000  # a request body larger than this is refused (413)
MAX_EXPLAIN_CHARS = 20_000  # integrated gradients cost ~32 passes per window: keep /explain interactive
MAX_ROLLING_CHARS = 2_000_000
QUIET_S = 0.003  # a batch closes when no request came for this long (or batch_wait_ms has passed)


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("empty text (nothing but whitespace)")
    return value


class ScoreRequest(BaseModel):
    text: str | None = Field(None, description="one text")
    texts: list[str] | None = Field(None, description="several texts, scored in order")
    ids: list[str] | None = Field(None, description="an id for each of `texts` (default 0, 1, ...)")

    @model_validator(mode="after")
    def one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError('give either "text" or "texts"')
        for t in [self.text] if self.text is not None else self.texts:
            _text(t)
        if self.texts is not None and not self.texts:
            raise ValueError('"texts" is empty')
        if self.ids is not None and (self.texts is None or len(self.ids) != len(self.texts)):
            raise ValueError('"ids" needs "texts" of the same length')
        return self


class ExplainRequest(BaseModel):
    text: str = Field(max_length=MAX_EXPLAIN_CHARS)
    label: str | None = Field(None, description="the label to explain (default: the verdict)")
    top: int = Field(8, ge=1, le=100)

    @field_validator("text")
    @classmethod
    def not_empty(cls, v):
        return _text(v)


class RollingRequest(BaseModel):
    text: str = Field(max_length=MAX_ROLLING_CHARS)
    window: int | None = Field(None, ge=1)
    stride: int | None = Field(None, ge=1)
    smooth_k: int = Field(3, ge=1)
    edge: str = "shrink"
    change_cost: float = Field(20.0, ge=0, description="nats paid per change of hand in the segmentation")
    among: list[str] | None = Field(None, description="labels the change points may choose from (default: all)")

    @field_validator("text")
    @classmethod
    def not_empty(cls, v):
        return _text(v)

    @field_validator("smooth_k")
    @classmethod
    def odd(cls, v):
        if v % 2 == 0:
            raise ValueError("smooth_k must be odd")
        return v

    @field_validator("edge")
    @classmethod
    def known_edge(cls, v):
        if v not in EDGES:
            raise ValueError(f"edge must be one of {', '.join(EDGES)}")
        return v


class BodyGuard:
    """Plain ASGI middleware: a POST body over `max_bytes` gets 413 (by its content-length,
    or once a chunked body passes the limit), one that is not UTF-8 gets 422, before FastAPI
    reads it; the body checked is handed on as it was received. Why not `@app.middleware`:
    Starlette's BaseHTTPMiddleware runs every request through extra tasks and streams, and
    on the AMX CPU that overhead was a tenth of a passage's scoring time per request."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            return await self.refuse(scope, receive, send, 413, f"request too large: {int(length)} bytes, the limit is {self.max_bytes}")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:  # a chunked body gives no length up front
                return await self.refuse(scope, receive, send, 413, f"request too large: over {self.max_bytes} bytes")
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return await self.refuse(scope, receive, send, 422, f"the body is not UTF-8 (byte {exc.start}); send UTF-8 JSON")
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def refuse(scope, receive, send, status: int, detail: str):
        await JSONResponse({"detail": detail}, status)(scope, receive, send)


class Batcher:
    """Collect /score texts that arrive together and score them in one model call, on the
    one thread that owns the model."""

    def __init__(self, judge, pool: ThreadPoolExecutor, wait_ms: float, max_texts: int):
        self.judge, self.pool, self.wait, self.max_texts = judge, pool, wait_ms / 1000, max_texts
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def score(self, texts: list[str], ids: list[str]) -> list:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, ids, future))
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            deadline = loop.time() + self.wait
            # collect until requests stop coming (QUIET_S without one) or `wait` has passed:
            # clients that got their answers together send their next texts together
            while sum(len(b[0]) for b in batch) < self.max_texts and loop.time() < deadline:
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), min(QUIET_S, max(0.0, deadline - loop.time()))))
                except asyncio.TimeoutError:
                    break
            batch = [b for b in batch if not b[2].done()]  # timed out meanwhile: skip
            if not batch:
                continue
            texts = [t for b in batch for t in b[0]]
            ids = [i for b in batch for i in b[1]]
            try:
                scores = await loop.run_in_executor(self.pool, self.judge.score, texts, ids)
            except Exception as exc:  # one failure must not stop the server
                for b in batch:
                    if not b[2].done():
                        b[2].set_exception(exc)
                continue
            at = 0
            for b in batch:
                if not b[2].done():
                    b[2].set_result(scores[at: at + len(b[0])])
                at += len(b[0])


async def _invalid_request(request: Request, exc: RequestValidationError):
    """A 422 with one line naming the field, not pydantic's list of error objects."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid" or "JSON" in message:
        message = "the body is not valid JSON (UTF-8)"
    return JSONResponse({"detail": f"{where + ': ' if where else ''}{message}"}, 422)


def model_summary(judge, run_dir: Path | None) -> dict:
    """What GET /model answers: the judge's settings and, from a run folder, its headline numbers."""
    report = {}
    if run_dir and RunFiles(run_dir).report.is_file():
        r = read_json(RunFiles(run_dir).report)
        report = {"in_book_test_accuracy": r.get("test", {}).get("accuracy"),
                  "unseen": {k: r.get("unseen", {}).get(k) for k in ("accuracy", "ece", "per_label")} if r.get("unseen") else None,
                  "calibration": r.get("calibration", {}).get("fitted_on"), "steps": r.get("steps")}
    return {"labels": judge.author_labels, "model_labels": judge.labels, "seq_len": judge.seq_len, "window": judge.window,
            "temperature": judge.temperature, "open_set": judge.open_set.to_dict(),
            "label_offsets": None if judge.label_offsets is None else judge.label_offsets.tolist(),
            "partner": judge.partner.settings() if judge.partner else None,
            "normalise": judge.normalise.to_dict(), "report": report}


def _judge_routes(judge, batcher: "Batcher", pool: ThreadPoolExecutor, timeout_s: float) -> APIRouter:
    """POST /score (batched across requests), /explain and /rolling, each answered within timeout_s."""
    router = APIRouter()

    async def in_time(coro):
        try:
            return await asyncio.wait_for(coro, timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(504, f"not answered within {timeout_s:.0f} s; send less text at a time") from None

    async def on_model(fn, *args):
        return await in_time(asyncio.get_running_loop().run_in_executor(pool, fn, *args))

    @router.post("/score")
    async def score(req: ScoreRequest):
        texts = [req.text] if req.text is not None else req.texts
        ids = req.ids or [str(i) for i in range(len(texts))]
        scores = await in_time(batcher.score(texts, ids))
        # a response, not a dict: FastAPI would walk every nested field through jsonable_encoder first
        return JSONResponse({"results": [s.to_dict() for s in scores]})

    @router.post("/explain")
    async def explain(req: ExplainRequest):
        from ..judge.explain import explain as explain_text

        if req.label is not None and req.label not in judge.labels + ["neither"]:
            raise HTTPException(422, f"label: unknown label {req.label!r} (labels: {', '.join(judge.labels)})")

        def work():
            s = judge.score([req.text])[0]
            return {**s.to_dict(), "explanation": explain_text(judge, req.text, req.label or s.label, req.top, all_words=True)}
        return await on_model(work)

    @router.post("/rolling")
    async def rolling(req: RollingRequest):
        from ..errors import WhowroteError

        def work():
            return judge.rolling(req.text, window=req.window, stride=req.stride, smooth_k=req.smooth_k,
                                 edge=req.edge, change_cost=req.change_cost, among=req.among).to_dict()
        try:
            return await on_model(work)
        except WhowroteError as exc:
            raise HTTPException(422, str(exc)) from None

    return router


def create_app(judge, run_dir: Path | None = None, max_bytes: int = MAX_BYTES, timeout_s: float = 60.0,
               batch_wait_ms: float = 20.0, max_batch_texts: int = 256) -> FastAPI:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whowrote-model")
    batcher = Batcher(judge, pool, batch_wait_ms, max_batch_texts)

    @asynccontextmanager
    async def lifespan(app):
        batcher.task = asyncio.create_task(batcher.run())
        yield
        batcher.task.cancel()
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="whowrote", version="1", lifespan=lifespan,
                  description="Who wrote it: calibrated P(author), 'neither', word attributions and rolling attribution.")
    static = resources.files("whowrote.serve") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(BodyGuard, max_bytes=max_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(str(static / "index.html"))

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/model")
    async def model_info():
        return model_summary(judge, run_dir)

    app.include_router(_judge_routes(judge, batcher, pool, timeout_s))
    return app


def port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
