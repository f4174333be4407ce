"""The public transparency page: no sign-in, the same cached figures as /api/v1/public."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from src.core.database import get_database
from src.core.i18n import translations
from src.services.jurisdiction import normal_code
from src.services.public_service import HEAT_MONTHS, PublicFigures
from src.web import charts, ward_map
from src.web.formatting import CATEGORY_LABELS, month_abbreviations
from src.web.pages import PageRoute, page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def month_label(month: str, language: str = "en") -> str:
    """ "2026-03" -> "Mar 2026" ("Mrt. 2026" in Afrikaans)."""
    year, number = month.split("-")
    return f"{month_abbreviations(language)[int(number) - 1]} {year}"


@router.get("/public")
async def public_page(request: Request, municipality: str | None = None) -> Response:
    lang = page_language(request)
    _ = translations(lang).gettext
    figures = PublicFigures(get_database())
    municipalities = await figures.municipalities()
    summary = await figures.summary()
    code = municipality if municipality is not None else (municipalities[0].code if municipalities else None)
    context: dict = {"municipalities": municipalities, "summary": summary, "chosen": None}
    if code is not None:
        stats = await figures.stats(code, HEAT_MONTHS)  # unknown or inactive: the 404 page
        wards = await figures.wards(code)
        cells = await figures.heatmap(code)
        chosen = normal_code(code)
        name = next((m.name for m in municipalities if m.code == chosen), chosen)
        months = [month_label(m.month, lang) for m in stats.monthly]
        context.update(
            chosen=chosen,
            name=name,
            stats=stats,
            wards=wards.features,
            cells=cells,
            categories=[(CATEGORY_LABELS.get(c.category, c.category), c) for c in stats.by_category],
            month_label=lambda month: month_label(month, lang),
            trend=charts.paired_bars(
                "public-trend",
                _("Reports per month in %(name)s") % {"name": name},
                months,
                charts.Series(_("Created"), "s-created", [m.created for m in stats.monthly]),
                charts.Series(_("Resolved"), "s-resolved", [m.resolved for m in stats.monthly]),
            ),
            map=ward_map.ward_map(
                wards.features, cells, _("Wards of %(name)s: open reports and busy areas") % {"name": name}
            ),
            months_shown=HEAT_MONTHS,
        )
    return render(request, "public.html", context)
