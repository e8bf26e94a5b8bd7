"""Generation routes whose SDK call is behind classes carried in values (issue 16, bench/realworld.md
"Route-by-route recall", session 6): a list of strategy classes the handler's helpers iterate, a
class chosen by a flag, a registry dict keyed by an enum, an inherited method that calls a
subclass's override, and calls on ``self`` that do not count against the depth bound.  Made-up
projects only, asserted exactly, with the near misses that must stay silent."""
from __future__ import annotations

from pathlib import Path

from conftest import files
from velro_policy.inputs.app import build

ATELIER = {
    "Procfile": "web: uvicorn atelier.main:app\n",
    "atelier/__init__.py": "",
    "atelier/main.py": """
        from fastapi import FastAPI

        from atelier import routes

        app = FastAPI()
        app.include_router(routes.router)
        """,
    "atelier/converters/__init__.py": "from .impl import *\n",
    "atelier/converters/impl.py": """
        import enum

        from anthropic import AsyncAnthropic


        class Mode(str, enum.Enum):
            plain = "plain"
            smart = "smart"
            rules = "rules"


        class BaseConverter:
            def __init__(self, text):
                self.text = text

            async def convert(self):
                return await self.fetch()

            async def fetch(self):
                return self.text

            async def describe(self):
                return "converter"


        class PlainConverter(BaseConverter):
            pass


        class RulesConverter(BaseConverter):
            async def fetch(self):
                return self.text.upper()


        class SmartConverter(BaseConverter):
            async def fetch(self):
                client = AsyncAnthropic()
                return await client.messages.create(model="m", max_tokens=9, messages=[])


        CONVERTERS = {Mode.plain: PlainConverter, Mode.rules: RulesConverter, Mode.smart: SmartConverter}
        QUIET = {Mode.plain: PlainConverter, Mode.rules: RulesConverter}


        def pick(mode):
            return CONVERTERS.get(mode, PlainConverter)(text="")


        def pick_quiet(mode):
            return QUIET[mode]("")
        """,
    "atelier/pipeline.py": """
        from atelier.converters import PlainConverter, RulesConverter, SmartConverter

        DEFAULT_STEPS = [PlainConverter, SmartConverter]
        OFFLINE_STEPS = (PlainConverter, RulesConverter)


        class Pipeline:
            def __init__(self, steps=None):
                if steps is None:
                    steps = DEFAULT_STEPS
                self.steps = steps

            async def run(self, text):
                for step in self.steps:
                    out = await step(text).convert()
                    if out:
                        return out
                return None


        class OfflinePipeline:
            steps = OFFLINE_STEPS

            async def run(self, text):
                return [await s(text).convert() for s in self.steps]


        async def run_all(text):
            return await Pipeline().run(text)


        async def run_offline(text):
            unused = [SmartConverter]
            return await OfflinePipeline().run(text), unused
        """,
    "atelier/routes.py": """
        from fastapi import APIRouter

        from atelier.converters import BaseConverter, Mode, PlainConverter, RulesConverter, SmartConverter, pick, pick_quiet
        from atelier.pipeline import run_all, run_offline

        router = APIRouter()


        @router.post("/documents/import")
        async def import_document(text: str):
            return await run_all(text)


        @router.post("/documents/import-offline")
        async def import_offline(text: str):
            return await run_offline(text)


        @router.post("/documents/preview")
        async def preview(text: str, fancy: bool):
            Chosen = SmartConverter if fancy else PlainConverter
            return await Chosen(text).convert()


        @router.post("/documents/preview-rules")
        async def preview_rules(text: str, strict: bool):
            Chosen = RulesConverter if strict else PlainConverter
            return await Chosen(text).convert()


        @router.post("/documents/base")
        async def base_only(text: str):
            return await BaseConverter(text).convert()


        @router.post("/documents/convert")
        async def convert(mode: Mode):
            converter = pick(mode)
            return await converter.convert()


        @router.post("/documents/convert-quiet")
        async def convert_quiet(mode: Mode):
            converter = pick_quiet(mode)
            return await converter.convert()


        @router.post("/documents/describe")
        async def describe(mode: Mode):
            return await pick(mode).describe()
        """,
}


def test_classes_carried_in_lists_flags_and_registries(tmp_path: Path) -> None:
    model = build(str(files(tmp_path, ATELIER)), {})
    assert model.complete
    sdk = "calls anthropic messages.create (atelier/converters/impl.py:38)"
    assert [(r.path, r.kind_reason) for r in model.routes] == [
        # a list of classes, the default of a parameter kept in self.steps, iterated and instantiated
        ("/documents/import", f"{sdk} via run_all() -> Pipeline.run() -> SmartConverter.convert() -> SmartConverter.fetch()"),
        # the same shape over a tuple of classes none of which generates (the one that does is in an unused local)
        ("/documents/import-offline", ""),
        # a class chosen by a flag; convert() is inherited and calls the subclass's fetch()
        ("/documents/preview", f"{sdk} via SmartConverter.convert() -> SmartConverter.fetch()"),
        ("/documents/preview-rules", ""),  # both classes the flag chooses from read text only
        ("/documents/base", ""),  # the base class itself: its own fetch(), not a subclass's override
        # a registry dict keyed by an enum, read with .get(key, default), returned by a project function
        ("/documents/convert", f"{sdk} via SmartConverter.convert() -> SmartConverter.fetch()"),
        ("/documents/convert-quiet", ""),  # a registry without the generating class
        ("/documents/describe", ""),  # every candidate class, but a method that generates in none of them
    ]


def test_calls_on_self_do_not_count_against_the_depth(tmp_path: Path) -> None:
    steps = "".join(f"    def step{i}(self, body):\n        return self.step{i + 1}(body)\n\n" for i in range(1, 8))
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI

            from chain import Chain, hop1, far1

            app = FastAPI()


            @app.post("/long-object")
            async def long_object(body: dict):
                return Chain().step1(body)


            @app.post("/five-functions")
            async def five(body: dict):
                return hop1(body)


            @app.post("/six-functions")
            async def six(body: dict):
                return far1(body)
            """,
        "chain.py": "import replicate\n\n\nclass Chain:\n" + steps
        + "    def step8(self, body):\n        return replicate.run('acme/m', input=body)\n\n\n"
        + "".join(f"def hop{i}(body):\n    return hop{i + 1}(body)\n\n\n" for i in range(1, 5))
        + "def hop5(body):\n    return replicate.run('acme/m', input=body)\n\n\n"
        + "".join(f"def far{i}(body):\n    return far{i + 1}(body)\n\n\n" for i in range(1, 6))
        + "def far6(body):\n    return replicate.run('acme/m', input=body)\n",
    })
    model = build(str(tmp_path), {})
    got = {r.path: r.kind_reason for r in model.routes}
    assert got["/long-object"] == ("calls replicate.run (chain.py:27) via Chain.step1() -> Chain.step2() -> Chain.step3() -> "
                                   "Chain.step4() -> Chain.step5() -> Chain.step6() -> Chain.step7() -> Chain.step8()")
    assert got["/five-functions"] == "calls replicate.run (chain.py:47) via hop1() -> hop2() -> hop3() -> hop4() -> hop5()"
    assert got["/six-functions"] == ""  # six project functions down: beyond MAX_DEPTH = 5


def test_an_sdk_object_is_no_project_receiver(tmp_path: Path) -> None:
    """``self.client.embeddings.create()`` is the SDK's method: it is not resolved by its name to the
    project's only ``create`` method (which generates)."""
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI
            from openai import OpenAI

            app = FastAPI()


            class Store:
                def __init__(self):
                    self.client = OpenAI()

                def create(self, text):
                    return self.client.images.generate(prompt=text, model="m")

                def embed(self, text):
                    return self.client.embeddings.create(input=text, model="e")


            @app.post("/vectors")
            async def vectors(text: str):
                return Store().embed(text)
            """,
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind) for r in model.routes] == [("/vectors", "")]


def test_a_hostile_chain_of_class_lists_is_no_traceback(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": "from fastapi import FastAPI\n\n\nclass A:\n    def run(self):\n        return 1\n\n\n"
                   "STEPS = " + " + ".join(["[A]"] * 400) + "\napp = FastAPI()\n\n\n"
                   "@app.post('/steps')\nasync def steps():\n    for s in STEPS:\n        s().run()\n"
                   "    return [s().run() for s in STEPS]\n",
    })
    model = build(str(tmp_path), {})
    assert [(r.path, r.kind) for r in model.routes] == [("/steps", "")]


def test_more_ways_to_carry_classes(tmp_path: Path) -> None:
    files(tmp_path, {
        "main.py": """
            from fastapi import FastAPI

            from kinds import BASIC, EXTRA, TABLE, Quiet, Loud

            app = FastAPI()


            @app.post("/items")
            async def by_items():
                return [cls().speak() for _, cls in TABLE.items()]


            @app.post("/enumerated")
            async def by_enumerate():
                for i, cls in enumerate(BASIC + EXTRA):
                    cls().speak()


            @app.post("/indexed")
            async def by_index(key: str):
                return TABLE[key]().speak()


            @app.post("/either")
            async def by_or(given: list):
                for cls in list(given or EXTRA):
                    cls().speak()


            @app.post("/basic-only")
            async def basic_only():
                for i, cls in enumerate(BASIC):
                    cls().speak()


            @app.post("/keys")
            async def keys_only():
                return [key().speak() for key in TABLE]
            """,
        "kinds.py": """
            from openai import OpenAI


            class Quiet:
                def speak(self):
                    return ""


            class Loud:
                def speak(self):
                    return OpenAI().responses.create(model="m", input="hi")


            BASIC = [Quiet]
            EXTRA = (Loud,)
            TABLE = {"quiet": Quiet, "loud": Loud}
            """,
    })
    model = build(str(tmp_path), {})
    sdk = "calls openai responses.create (kinds.py:11) via Loud.speak()"
    assert [(r.path, r.kind_reason) for r in model.routes] == [
        ("/items", sdk),  # for _, cls in TABLE.items(), in a comprehension
        ("/enumerated", sdk),  # enumerate() over two lists added together
        ("/indexed", sdk),  # TABLE[key]()
        ("/either", sdk),  # list(given or EXTRA): the default a parameter falls back to
        ("/basic-only", ""),  # the list without the generating class
        ("/keys", ""),  # iterating a dict gives its keys (strings), not its classes
    ]
