from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Server-rendered pages are mounted here."""
