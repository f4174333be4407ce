from fastapi import APIRouter

router = APIRouter(prefix="/dashboard", tags=["live events"])
