from fastapi import APIRouter

router = APIRouter(prefix="/export", tags=["export"])
