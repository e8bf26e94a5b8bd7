"""Generation routes told by what their handler calls (issue 16, bench/realworld.md "Route-by-route
recall"): a route named anything (``POST /jobs``, ``create_image``) is a generation route when its
handler reaches an AI/generation SDK call, directly or through project helpers.  Made-up projects
only, asserted exactly, with the near misses that must stay silent."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import files, velro
from velro_policy.inputs.app import build

STUDIO = {
    "Procfile": "web: uvicorn studio.main:app\n",
    "studio/__init__.py": "",
    "studio/main.py": """
        from fastapi import FastAPI

        from studio.routes import jobs, media, chat, misses

        app = FastAPI()
        app.include_router(jobs.router)
        app.include_router(media.router)
        app.include_router(chat.make_router())
        app.include_router(misses.router)
        """,
    "studio/routes/__init__.py": "",
    "studio/routes/jobs.py": """
        import fal_client
        from fal_client import subscribe_async
        from fastapi import APIRouter, BackgroundTasks

        from studio.services.render import render_later
        from studio.worker import upscale

        router = APIRouter(prefix="/jobs")


        @router.post("")
        async def start(body: dict):
            handle = fal_client.submit("acme/flux", arguments=body)
            return {"id": handle.request_id}


        @router.post("/sync")
        async def run_now(body: dict):
            return await subscribe_async("acme/flux", arguments=body)


        @router.post("/later")
        async def queue(body: dict, tasks: BackgroundTasks):
            tasks.add_task(render_later, body)
            return {}


        @router.post("/upscale")
        async def upscale_one(body: dict):
            upscale.delay(body["url"])
            return {}


        @router.get("")
        async def list_jobs():
            return []


        @router.post("/{job_id}/result")
        async def fetch_result(job_id: str):
            state = fal_client.status("acme/flux", job_id)
            return fal_client.result("acme/flux", job_id) if state else None
        """,
    "studio/services/__init__.py": "",
    "studio/services/render.py": """
        import replicate


        def render_later(body):
            return _call(body)


        def _call(body):
            return replicate.run("acme/sdxl", input=body)
        """,
    "studio/services/images.py": """
        from openai import AsyncOpenAI


        class ImageService:
            def __init__(self):
                self.client = AsyncOpenAI()

            async def create(self, prompt):
                return await self._send(prompt)

            async def _send(self, prompt):
                return await self.client.images.generate(prompt=prompt, model="m")

            async def embed(self, text):
                return await self.client.embeddings.create(input=text, model="e")
        """,
    "studio/worker.py": """
        import httpx
        from celery import Celery

        celery = Celery()
        QUEUE = "https://queue.fal.run/acme"


        @celery.task
        def upscale(url):
            return httpx.post(f"{QUEUE}/upscale", json={"url": url})
        """,
    "studio/routes/media.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends

        from studio.services.images import ImageService

        router = APIRouter(prefix="/media")


        @router.post("/pictures")
        async def create_image(prompt: str, svc: Annotated[ImageService, Depends(ImageService)]):
            return await svc.create(prompt)


        @router.post("/vectors")
        async def vectors(text: str, svc: ImageService = Depends(ImageService)):
            return await svc.embed(text)
        """,
    "studio/routes/chat.py": """
        from anthropic import Anthropic
        from fastapi import APIRouter
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_openai import ChatOpenAI

        client = Anthropic()


        def make_router():
            router = APIRouter(prefix="/chat")
            chain = ChatPromptTemplate.from_template("{q}") | ChatOpenAI()

            @router.post("/reply")
            async def reply(q: str):
                msg = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": q}])
                return msg.content

            @router.post("/pipe")
            async def pipe(q: str):
                return await chain.ainvoke({"q": q})

            return router
        """,
    "studio/routes/misses.py": """
        import httpx
        from fastapi import APIRouter

        from studio import unused  # deployed, but no route calls what it has
        from studio.deep import level1

        router = APIRouter(prefix="/misc")
        FILES = "https://api.openai.com/v1/files"


        @router.post("/pay")
        async def pay(body: dict):
            return httpx.post("https://api.payments.example/v1/charges", json=body)


        @router.post("/upload")
        async def upload(body: dict):
            async with httpx.AsyncClient() as http:
                return await http.post(FILES, json=body)


        @router.post("/deep")
        async def deep(body: dict):
            return level1(body)


        @router.post("/notes")
        async def save_note(body: dict, store):
            return store.run(body)
        """,
    "studio/unused.py": """
        import fal_client


        def never_called(body):
            return fal_client.submit("acme/flux", arguments=body)


        class Runner:
            def run(self, body):
                return fal_client.run("acme/flux", arguments=body)


        class Other:
            def run(self, body):
                return body
        """,
    "studio/deep.py": """
        import fal_client


        def level1(body):
            return level2(body)


        def level2(body):
            return level3(body)


        def level3(body):
            return level4(body)


        def level4(body):
            return level5(body)


        def level5(body):
            return level6(body)


        def level6(body):
            return fal_client.submit("acme/flux", arguments=body)
        """,
    "archive/old.py": """
        import fal_client
        from fastapi import APIRouter

        router = APIRouter()


        @router.post("/old")
        async def old(body: dict):
            return fal_client.submit("acme/flux", arguments=body)
        """,
}


def test_routes_are_generation_by_what_their_handler_reaches(tmp_path: Path) -> None:
    model = build(str(files(tmp_path, STUDIO)), {})
    assert model.complete and "archive/old.py" not in model.deployed
    got = [(r.method, r.path, r.kind, r.kind_reason) for r in model.routes]
    assert got == [
        ("POST", "/jobs", "generation", "calls fal_client.submit (studio/routes/jobs.py:13)"),
        ("POST", "/jobs/sync", "generation", "calls fal_client.subscribe_async (studio/routes/jobs.py:19)"),
        ("POST", "/jobs/later", "generation", "calls replicate.run (studio/services/render.py:9) via render_later() -> _call()"),
        ("POST", "/jobs/upscale", "generation", "calls POST queue.fal.run (studio/worker.py:10) via upscale()"),
        ("GET", "/jobs", "", ""),  # lists jobs: no SDK call
        ("POST", "/jobs/{job_id}/result", "", ""),  # fal_client.status / result only read a stored result
        ("POST", "/media/pictures", "generation",
         "calls openai images.generate (studio/services/images.py:12) via ImageService.create() -> ImageService._send()"),
        ("POST", "/media/vectors", "", ""),  # embeddings are not generation
        ("POST", "/chat/reply", "generation", "calls anthropic messages.create (studio/routes/chat.py:15)"),
        ("POST", "/chat/pipe", "generation", "calls langchain_core.prompts ainvoke (studio/routes/chat.py:20)"),
        ("POST", "/misc/pay", "", ""),  # a POST, to a host that is no generation API
        ("POST", "/misc/upload", "", ""),  # a POST to a generation API host, but to its files endpoint
        ("POST", "/misc/deep", "", ""),  # the SDK call is six helpers down: beyond the bound (MAX_DEPTH = 5)
        ("POST", "/misc/notes", "", ""),  # store.run(): two project methods are named run, only one generates
    ]


def test_a_method_found_by_its_name_counts_only_when_every_one_of_that_name_generates(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI

            import art

            app = FastAPI()


            @app.post("/posters")
            async def poster(body: dict, repo):
                return await repo.paint_poster(body)


            @app.post("/drafts")
            async def draft(body: dict, repo):
                return await repo.save(body)
            """,
        "art.py": """
            from google import genai


            class Painter:
                def __init__(self):
                    self.client = genai.Client()

                async def paint_poster(self, body):
                    return self.client.models.generate_images(model="m", prompt=body["p"])

                async def save(self, body):
                    return body


            class Store:
                async def save(self, body):
                    return self.client.models.generate_content(model="m", contents=body)
            """,
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind_reason) for r in model.routes] == [
        ("/posters", "calls google.genai generate_images (art.py:9) via Painter.paint_poster()"),
        ("/drafts", ""),  # one save() of the project generates, the other does not: unknown receiver, no guess
    ]


def test_a_project_module_named_like_an_sdk_is_not_the_sdk(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI

            import replicate
            import openai

            app = FastAPI()


            @app.post("/copies")
            async def copy(body: dict):
                return replicate.run(body)


            @app.post("/answers")
            async def answer(body: dict):
                return openai.chat.completions.create(model="m", messages=[])
            """,
        "replicate.py": "def run(body):\n    return dict(body)\n",
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind_reason) for r in model.routes] == [
        ("/copies", ""),
        ("/answers", "calls openai.chat.completions.create (main.py:16)"),
    ]


def test_bad_input_is_no_traceback(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI
            from loop import a

            app = FastAPI()
            x = x
            y = y.z.w()


            @app.post("/spin")
            async def spin(body):
                self = self
                return a(body) or y.run() or x.chat.completions.create()
            """,
        "loop.py": "from loop import a as b\n\n\ndef a(body):\n    return b(body) or a(body)\n",
        "broken.py": "def (:\n",
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind) for r in model.routes] == [("/spin", "")]


LIMITED = {
    "Procfile": "web: uvicorn main:app\n",
    "main.py": """
        import fal_client
        from fastapi import FastAPI, Request
        from slowapi import Limiter
        from slowapi.util import get_remote_address

        limiter = Limiter(key_func=get_remote_address)
        app = FastAPI()


        @app.post("/jobs")
        async def start(request: Request):
            return fal_client.submit("acme/flux", arguments={})


        @app.post("/jobs/strict")
        @limiter.limit("10/hour")
        async def start_strict(request: Request):
            return fal_client.submit("acme/flux", arguments={})


        @app.post("/jobs/stricter")
        @limiter.limit("5/hour")
        async def start_stricter(request: Request):
            return fal_client.submit("acme/flux", arguments={})


        @app.post("/jobs/loose")
        @limiter.limit("20/hour")
        async def start_loose(request: Request):
            return fal_client.submit("acme/flux", arguments={})


        @app.get("/jobs")
        async def list_jobs(request: Request):
            return fal_client.submit("acme/flux", arguments={})


        @app.post("/jobs/{job_id}/status")
        async def job_status(job_id: str):
            return fal_client.status("acme/flux", job_id)
        """,
}


def test_the_rule_holds_generation_routes_to_the_guides_limit(tmp_path: Path) -> None:
    files(tmp_path, LIMITED)
    res = velro(["check", ".", "--only", "velro/route-rate-limit", "-f", "json", "--no-cache"], cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    found = sorted((f["line"], f["message"]) for f in json.loads(res.stdout)["findings"])
    assert found == [
        (10, 'routes["POST /jobs"] is a generation route with no rate limit (guide: 10/hour); '
             "it calls fal_client.submit (main.py:12) (production)"),
        (27, 'routes["POST /jobs/loose"] is a generation route that allows 20/hour, from decorator @limiter.limit '
             "(guide: at most 10/hour); it calls fal_client.submit (main.py:30) (production)"),
    ]


def test_the_app_command_shows_why(tmp_path: Path) -> None:
    files(tmp_path, LIMITED)
    res = velro(["app", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    block = res.stdout.split("Routes by what their handler calls (5):\n", 1)[1].split("\n\n", 1)[0]
    assert block.splitlines() == [
        "  POST /jobs: generation: calls fal_client.submit (main.py:12)",
        "  POST /jobs/strict: generation: calls fal_client.submit (main.py:18)",
        "  POST /jobs/stricter: generation: calls fal_client.submit (main.py:24)",
        "  POST /jobs/loose: generation: calls fal_client.submit (main.py:30)",
        "  GET /jobs: generation: calls fal_client.submit (main.py:35)",
    ]
    data = json.loads(velro(["app", ".", "--format", "json"], cwd=tmp_path).stdout)
    assert [(r["path"], r["method"], r["kind"]) for r in data["routes"]][-2:] == [("/jobs", "GET", "generation"),
                                                                                  ("/jobs/{job_id}/status", "POST", "")]


def test_more_shapes_add_api_route_threads_and_keyword_urls(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            import asyncio

            import requests
            from fastapi import APIRouter, FastAPI

            from gen import make_clip

            app = FastAPI()
            router = APIRouter()
            SPEECH = "https://api.openai.com/v1/audio/transcriptions"


            async def clip(body: dict):
                return await asyncio.to_thread(make_clip, body)


            async def transcribe(body: dict):
                return requests.post(url=SPEECH, json=body)


            async def chat(body: dict):
                return requests.post(url="https://openrouter.ai/api/v1/chat/completions", json=body)


            router.add_api_route("/clips", clip, methods=["POST"])
            router.add_api_route("/transcripts", transcribe, methods=["POST"])
            router.add_api_route("/chats", chat, methods=["POST"])
            app.include_router(router)
            """,
        "gen.py": """
            import replicate

            client = replicate.Client()


            def make_clip(body):
                return client.predictions.create(version="v", input=body)
            """,
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind_reason) for r in model.routes] == [
        ("/clips", "calls replicate predictions.create (gen.py:7) via make_clip()"),
        ("/transcripts", ""),  # a transcription is not generation
        ("/chats", "calls POST openrouter.ai (main.py:22)"),
    ]


def test_a_library_object_is_no_project_receiver(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI
            from redis import Redis

            import art

            app = FastAPI()
            cache = Redis()


            @app.post("/a")
            async def a(body: dict, store: Redis):
                return await store.paint_poster(body)


            @app.post("/b")
            async def b(body: dict):
                return await cache.paint_poster(body)


            @app.post("/c")
            async def c(body: dict, painter: "art.Painter"):
                return await painter.paint_poster(body)
            """,
        "art.py": """
            import openai


            class Painter:
                async def paint_poster(self, body):
                    return openai.images.generate(prompt=body["p"])
            """,
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind) for r in model.routes] == [("/a", ""), ("/b", ""), ("/c", "generation")]


def test_agent_frameworks_are_generation_sdks(tmp_path: Path) -> None:
    """An agent of mcp_use / pydantic-ai / crewai answers a run with chat-model calls (a real backend's
    `/api/chat`: an MCPAgent built in a helper, then `await agent.run(prompt)`); building one is not."""
    files(tmp_path, {
        "Procfile": "web: uvicorn main:app\n",
        "agents_setup.py": """
            from mcp_use import MCPAgent, MCPClient


            async def make_agent(user_id: int) -> MCPAgent:
                return MCPAgent(llm=None, client=MCPClient.from_dict({}), max_steps=10)
            """,
        "main.py": """
            from crewai import Crew
            from fastapi import FastAPI
            from pydantic_ai import Agent

            from agents_setup import make_agent

            app = FastAPI()
            writer = Agent("openai:gpt-4o")


            @app.post("/chat")
            async def chat(body: dict):
                agent = await make_agent(1)
                return {"reply": await agent.run(body["prompt"])}


            @app.post("/draft")
            async def draft(body: dict):
                result = await writer.run(body["topic"])
                return {"text": result.output}


            @app.post("/crew")
            def crew(body: dict):
                return Crew(agents=[], tasks=[]).kickoff(inputs=body)


            @app.post("/agents")
            async def new_agent(body: dict):
                await make_agent(2)  # built, never run
                return {"ok": True}
            """,
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind, r.kind_reason.split(" (")[0]) for r in model.routes] == [
        ("/chat", "generation", "calls mcp_use run"),
        ("/draft", "generation", "calls pydantic_ai run"),
        ("/crew", "generation", "calls crewai kickoff"),
        ("/agents", "", ""),
    ]
