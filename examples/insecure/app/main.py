"""The Velro API (insecure example: what the guide's fixes removed)."""
import traceback

import jwt
import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.config import settings

limiter = Limiter(key_func=get_remote_address)
app = FastAPI(debug=True)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)


def current_user(token: str) -> dict:
    if token.startswith("mock_token_"):
        return {"id": "mock-user"}
    return jwt.decode(token, settings.jwt_secret, options={"verify_signature": False})


@app.exception_handler(Exception)
async def unhandled(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=500, content={"detail": str(exc), "trace": traceback.format_exc()})


@app.post("/api/v1/auth/login")
@limiter.limit("10/minute")
async def login(request: Request) -> dict:
    return {"status": "ok"}


uvicorn.run(app, host="0.0.0.0", port=8000, reload=True)

# The middleware modules are part of the deployed app (the guide lists them under Core Security Components).
from app.middleware import rate_limiting_enhanced, security_enhanced  # noqa: E402,F401
