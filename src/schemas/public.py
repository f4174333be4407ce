from typing import Any

from pydantic import BaseModel

from src.models.enums import TicketCategory


class PublicMunicipality(BaseModel):
    code: str
    name: str
    province: str


class PublicSummary(BaseModel):
    municipalities: int
    tickets_total: int
    tickets_resolved: int
    resolution_rate_percent: float | None
    gbv_reports_total: int


class CategoryCount(BaseModel):
    category: TicketCategory
    total: int
    resolved: int


class MonthCount(BaseModel):
    month: str
    created: int
    resolved: int


class PublicStats(BaseModel):
    median_response_hours: float | None
    resolution_rate_percent: float | None
    sla_compliance_percent: float | None
    by_category: list[CategoryCount]
    monthly: list[MonthCount]


class HeatCell(BaseModel):
    lat: float
    lng: float
    count: int


class WardFeature(BaseModel):
    type: str = "Feature"
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class WardCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[WardFeature]
