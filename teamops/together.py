"""Together AI's OpenAI-compatible chat completions (`POST {base}/chat/completions`): one question
in, the model's text out, with its token counts. Knows HTTP and the completion's envelope, nothing
of what is asked (teamops/model_reading.py writes the questions and judges the answers).

urllib3 blocks, so every call runs in a thread, and in a small pool of its own (CALLS_AT_ONCE)
rather than asyncio's shared one: a provider that hangs can then hold at most those few threads,
never the ones the platform senders deliver replies with. A call that finds them all taken waits
for one a moment (SLOT_WAIT_SECONDS: a burst of questions to a healthy model gets through), then
fails ("busy") rather than queue behind a hang. The worker waits for a question's call in one
of its own slots, so CALLS_AT_ONCE is kept below the worker's (4): however the provider hangs,
most slots stay free for the chats' messages (bench/bench_model_webhook.py measures it). No retries here: a failure is reported, and
the circuit breaker decides whether to ask again.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import msgspec

CALLS_AT_ONCE = 2
SLOT_WAIT_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 2.0


class ModelError(Exception):
    """The provider gave no usable completion. `kind` says why, for logs and the breaker:
    timeout, connection, rate-limited (429), server (5xx), refused (another 4xx), envelope (a
    200 whose body is not a completion), busy (every call slot is taken)."""

    def __init__(self, kind: str, status: int = 0):
        super().__init__(kind if not status else f"{kind} {status}")
        self.kind = kind
        self.status = status


class _Message(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    message: _Message
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Completion(msgspec.Struct):
    """What we read of a chat completion; every other field passes."""

    choices: list[_Choice]
    usage: _Usage | None = None


_decode_completion = msgspec.json.Decoder(_Completion).decode


class Completion(msgspec.Struct, frozen=True):
    content: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    ms: float  # the call's own duration, for the logs


class TogetherClient:
    def __init__(self, base: str, api_key: str, model: str, timeout: float):
        self.url = f"{base.rstrip('/')}/chat/completions"
        self.model = model
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._pool = ThreadPoolExecutor(max_workers=CALLS_AT_ONCE, thread_name_prefix="together")
        self._slots: asyncio.Semaphore | None = None  # made on the first call, on the service's loop
        self._http = None  # urllib3 is imported in the first call's thread, not at start-up

    async def complete(self, system: str, user: str, schema: dict, max_tokens: int) -> Completion:
        """Ask one question; ModelError when no completion came back."""
        body = msgspec.json.encode({
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            # Structured output: the provider constrains the answer to this schema where the model
            # supports it; the answer is decoded and checked either way.
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
            "temperature": 0,
            "max_tokens": max_tokens,
        })
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(CALLS_AT_ONCE)
        slots = self._slots
        try:
            async with asyncio.timeout(SLOT_WAIT_SECONDS):
                await slots.acquire()
        except TimeoutError:
            raise ModelError("busy") from None
        try:
            call = self._pool.submit(self._post, body)
        except BaseException:
            slots.release()
            raise
        # The slot is free again when the call is over (or was cancelled before it began), not when
        # we stop waiting for it: a hung call keeps its slot until its own timeout ends it.
        call.add_done_callback(lambda _: loop.call_soon_threadsafe(slots.release))
        return await asyncio.wrap_future(call)

    def _post(self, body: bytes) -> Completion:
        import urllib3

        if self._http is None:
            self._http = urllib3.PoolManager(num_pools=2, maxsize=CALLS_AT_ONCE, retries=False)
        started = time.perf_counter()
        try:
            response = self._http.request(
                "POST", self.url, body=body, headers=self._headers,
                timeout=urllib3.Timeout(total=self.timeout, connect=min(CONNECT_TIMEOUT_SECONDS, self.timeout)),
                preload_content=True,
            )
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            raise ModelError("timeout") from None
        except urllib3.exceptions.HTTPError as exc:
            # A read timeout surfaces wrapped (ProtocolError / MaxRetryError around it).
            reason = getattr(exc, "reason", None) or (exc.args[1] if len(exc.args) > 1 else None)
            if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
                raise ModelError("timeout") from None
            raise ModelError("connection") from None
        ms = (time.perf_counter() - started) * 1000
        if response.status == 429:
            raise ModelError("rate-limited", 429)
        if response.status >= 500:
            raise ModelError("server", response.status)
        if response.status != 200:
            raise ModelError("refused", response.status)
        try:
            completion = _decode_completion(response.data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise ModelError("envelope") from None
        if not completion.choices or completion.choices[0].message.content is None:
            raise ModelError("envelope")
        usage = completion.usage or _Usage()
        return Completion(
            content=completion.choices[0].message.content,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            finish_reason=completion.choices[0].finish_reason or "",
            ms=ms,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._http is not None:
            self._http.clear()
